import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import {
  decodeCursor,
  pageLimit,
  toPage,
  type Page,
  type PageQuery,
} from '../platform/http/pagination';
import { RateLimiter } from '../platform/ratelimit/rate-limiter.service';
import type { Principal } from '../platform/auth/principal';
import type { Tenant } from '../platform/tenancy/tenant-context';
import {
  RouteRefused,
  TenantRunner,
  type RouteCall,
} from '../platform/tenancy/tenant-runner.service';
import { ConversationProblems as P } from './conversations.problems';
import { ConversationsRepository, type ThreadParticipantRow } from './conversations.repository';
import {
  participantOf,
  toViewerContext,
  type MessageRow,
  type ParticipantView,
  type SendResult,
  type SendStatus,
  type ThreadRow,
  type ViewerContext,
} from './conversations.rows';
import {
  MessageQueries,
  ThreadQueries,
  type SendInput as SendRequest,
} from './conversations.queries';
import { toMessageResponse } from './dto/message.mapper';
import type {
  MessagePageResponse,
  MessageResponse,
  ReadResponse,
  UnreadCountResponse,
} from './dto/message.response';
import { DEFAULT_MESSAGE_PAGE, type MessagesQuery } from './dto/messages.query';
import type { StartThreadDto } from './dto/start-thread.dto';
import { toThreadResponse } from './dto/thread.mapper';
import type { ThreadResponse, ThreadViewResponse } from './dto/thread.response';
import { requestHash } from './idempotency';
import { receiptVisible } from './receipts';

export interface SendInput {
  body: string;
  /** Already resolved from clientMessageId / Idempotency-Key. */
  key: string | null;
  /** The first message of a thread created in this request (one thread.started notification). */
  first?: boolean;
}

/**
 * Conversations, as the controllers use them: direct threads (get-or-create, the caller's list
 * with previews, one thread with its latest page), messages (send, page, soft delete), the read
 * pointer and receipts, and unread counts. The rules that must be atomic are in sql/.
 */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly repo: ConversationsRepository,
    private readonly limiter: RateLimiter,
    private readonly runner: TenantRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // ---- threads ----------------------------------------------------------------------------

  async start(
    tenant: Tenant,
    input: StartThreadDto,
    key: string | null,
  ): Promise<{ created: boolean; thread: ThreadResponse; message?: MessageResponse }> {
    const recipientId = input.recipientId.toLowerCase();
    if (recipientId === tenant.userId) throw P.startWithYourself();
    if (key && input.body === undefined) throw P.keyWithoutBody();
    // A repeat of a keyed start answers with what it created, even if the recipient could not be
    // started with any more (deactivated, hidden or blocking since): the message exists.
    const repeatOf = key ? await this.threadOfKey(tenant, key, recipientId) : null;
    const result = repeatOf
      ? { status: 'existing' as const, threadId: repeatOf }
      : await this.repo.start(tenant.userId, tenant.role, recipientId);
    if (result.status === 'not-found') throw P.recipientNotFound();
    if (result.status === 'blocked-by-you') throw P.blockedByYou();
    const threadId = result.threadId!;
    const created = result.status === 'created';
    if (created) await this.countNewThread(tenant);

    let message: MessageResponse | undefined;
    if (input.body !== undefined) {
      ({ message } = await this.send(tenant, threadId, { body: input.body, key, first: created }));
    }
    const row = await this.repo.one(threadId, tenant.userId);
    return {
      created,
      thread: toThreadResponse(row!, participantOf(tenant)),
      ...(message ? { message } : {}),
    };
  }

  /**
   * GET …/threads: the tenant entry and a page of the caller's threads as one statement
   * (rm_api_thread_list: one round trip, the rows built by PostgreSQL).
   */
  async listAs(principal: Principal, query: PageQuery): Promise<Page<ThreadResponse>> {
    const limit = pageLimit(query.limit);
    const after = query.cursor ? decodeCursor<ListKey>(query.cursor, LIST_CURSOR) : null;
    const { tenant, row } = await this.runner.callAsMember<{ threads: ThreadRow[] }>(
      principal,
      ThreadQueries.list(after, limit + 1),
    );
    const me = participantOf(tenant);
    return toPage(
      row.threads,
      limit,
      (thread) => toThreadResponse(thread, me),
      (thread): ListKey => [thread.activityKey, thread.id],
    );
  }

  /**
   * GET …/threads/:id: the tenant entry, the thread and its latest page as one statement
   * (rm_api_thread_view).
   */
  async viewAs(
    principal: Principal,
    threadId: string,
    limit?: number,
  ): Promise<ThreadViewResponse> {
    const size = limit ?? DEFAULT_MESSAGE_PAGE;
    const { tenant, row } = await this.readRoute(
      principal,
      MessageQueries.threadView(threadId, size + 1),
    );
    const me = participantOf(tenant);
    return {
      thread: toThreadResponse(row.thread, me),
      messages: cutPage(toViewerContext(row.thread, me), row.messages, size, false),
    };
  }

  // ---- messages ---------------------------------------------------------------------------

  /** The thread as the caller sees it; 404 when they are not a participant (or it does not exist). */
  async context(tenant: Tenant, threadId: string): Promise<ViewerContext> {
    const row = await this.repo.one(threadId, tenant.userId);
    if (!row) throw P.threadNotFound();
    return toViewerContext(row, participantOf(tenant));
  }

  /**
   * GET …/threads/:id/messages: the tenant entry, the cursor and the page as one statement
   * (rm_api_message_page).
   */
  async messagesAs(
    principal: Principal,
    threadId: string,
    query: MessagesQuery,
  ): Promise<MessagePageResponse> {
    if (query.before && query.after) throw P.beforeAndAfter();
    const limit = query.limit ?? DEFAULT_MESSAGE_PAGE;
    const after = query.after !== undefined;
    const { tenant, row } = await this.readRoute(
      principal,
      MessageQueries.messagePage(threadId, query, after ? limit : limit + 1),
    );
    return cutPage(toViewerContext(row.thread, participantOf(tenant)), row.messages, limit, after);
  }

  /** A read route that answers a thread and a page of its messages (their refusals mapped). */
  private async readRoute(
    principal: Principal,
    route: RouteCall,
  ): Promise<{ tenant: Tenant; row: { thread: ThreadRow; messages: MessageRow[] } }> {
    try {
      return await this.runner.callAsMember(principal, route);
    } catch (error) {
      if (!(error instanceof RouteRefused)) throw error;
      throw pageRefusal(error.status);
    }
  }

  /** A send inside the caller's transaction (a thread's first message, with its start). */
  async send(
    tenant: Tenant,
    threadId: string,
    input: SendInput,
  ): Promise<{ created: boolean; message: MessageResponse }> {
    const result = await this.repo.send(this.sendRequest(tenant.userId, threadId, input));
    return this.sent(tenant, threadId, input, result, async () => {
      const ctx = await this.context(tenant, threadId);
      return toMessageResponse((await this.repo.byId(ctx, result.messageId!))!, ctx);
    });
  }

  /**
   * POST …/messages: the tenant entry and the send as one statement (one round trip, one
   * implicit transaction: TenantRunner.callAsMember). A repeat reads the message as it is now in
   * a transaction of its own.
   */
  async sendAs(
    principal: Principal,
    threadId: string,
    input: SendInput,
  ): Promise<{ created: boolean; message: MessageResponse }> {
    let called: { tenant: Tenant; row: SendResult };
    try {
      called = await this.runner.callAsMember<SendResult>(
        principal,
        MessageQueries.sendAs(this.sendRequest(principal.userId, threadId, input)),
      );
    } catch (error) {
      if (!(error instanceof RouteRefused)) throw error;
      // Refused sends raise (the statement rolled back whole): the same problems as below.
      throw sendRefusal(error.status);
    }
    const { tenant, row } = called;
    return this.sent(tenant, threadId, input, row, () =>
      this.runner.runAsMember(principal, async (current) => {
        const ctx = await this.context(current, threadId);
        return toMessageResponse((await this.repo.byId(ctx, row.messageId!))!, ctx);
      }),
    );
  }

  private sendRequest(senderId: string, threadId: string, input: SendInput): SendRequest {
    return {
      threadId,
      senderId,
      body: input.body,
      clientMessageId: input.key,
      hash: requestHash(input.body),
      first: input.first ?? false,
    };
  }

  private async sent(
    tenant: Tenant,
    threadId: string,
    input: SendInput,
    result: SendResult,
    repeat: () => Promise<MessageResponse>,
  ): Promise<{ created: boolean; message: MessageResponse }> {
    switch (result.status) {
      case 'created':
        return {
          created: true,
          message: {
            id: result.messageId!,
            threadId,
            seq: result.seq!,
            sender: {
              userId: tenant.userId,
              displayName: tenant.member.displayName,
              role: tenant.role,
            },
            body: input.body,
            clientMessageId: input.key,
            createdAt: new Date(result.createdAt!).toISOString(),
            deleted: false,
            deletedAt: null,
            seenBy: [],
          },
        };
      case 'repeat':
        return { created: false, message: await repeat() };
      case 'key-conflict':
      case 'in-progress':
      case 'not-found':
      case 'blocked-by-you':
      case 'recipient-inactive':
        throw sendRefusal(result.status);
    }
  }

  async markRead(tenant: Tenant, threadId: string, upTo: string | null): Promise<ReadResponse> {
    const result = await this.repo.markRead(threadId, tenant.userId, upTo);
    if (result.status === 'not-found') throw upTo ? P.messageNotFound() : P.threadNotFound();
    return {
      threadId,
      lastReadMessageId: result.lastReadMessageId,
      readAt: result.lastReadAt ? new Date(result.lastReadAt).toISOString() : null,
    };
  }

  async delete(tenant: Tenant, threadId: string, messageId: string): Promise<void> {
    const status = await this.repo.delete(threadId, messageId, tenant.userId);
    if (status === 'not-found') throw P.messageNotFound();
    if (status === 'forbidden') throw P.notSender();
  }

  /** GET …/unread-count: the tenant entry and the count as one statement (one round trip). */
  async unreadCountAs(principal: Principal): Promise<UnreadCountResponse> {
    const { row } = await this.runner.callAsMember<UnreadCountResponse>(
      principal,
      MessageQueries.unreadCountAs(),
    );
    return { total: row.total, threads: row.threads };
  }

  // ---- for the event streams (in an org's tenant transaction) ------------------------------

  /**
   * Messages as each viewer's GET would show them now, by `${viewerId}/${messageId}`; a pair the
   * viewer may not see is absent.
   */
  async messagesAsSeenBy(
    pairs: { viewerId: string; messageId: string }[],
  ): Promise<Map<string, MessageResponse>> {
    const rows = await this.repo.messagesForViewers(pairs);
    return new Map(
      rows.map(({ viewerId, row, ctx }) => [`${viewerId}/${row.id}`, toMessageResponse(row, ctx)]),
    );
  }

  /** A thread as the viewer sees it in their list (null when they take no part in it). */
  async threadAsSeenBy(viewer: ParticipantView, threadId: string): Promise<ThreadResponse | null> {
    const row = await this.repo.one(threadId, viewer.userId);
    return row ? toThreadResponse(row, viewer) : null;
  }

  /** Who takes part in the threads, with what deciding who may hear of their events needs. */
  participants(threadIds: string[]): Promise<ThreadParticipantRow[]> {
    return this.repo.participants([...new Set(threadIds)]);
  }

  /** Whether `viewer` may see that `reader` read at `readAt` (SPEC §2 "Read receipts"). */
  receiptVisibleTo(reader: ParticipantView, viewer: ParticipantView, readAt: Date): boolean {
    return receiptVisible(reader, viewer, readAt);
  }

  /** Unread totals of several members of the org (SPEC: `GET …/unread-count`). */
  unreadCounts(orgId: string, userIds: string[]): Promise<Map<string, UnreadCountResponse>> {
    return this.repo.unreadCounts(orgId, [...new Set(userIds)]);
  }

  // ---- internals --------------------------------------------------------------------------

  /**
   * The thread a key was already used in by this sender, when that thread is with `recipientId`;
   * a key used in a thread with someone else is a conflict (422). Null when the key is new.
   */
  private async threadOfKey(
    tenant: Tenant,
    key: string,
    recipientId: string,
  ): Promise<string | null> {
    const prior = await this.repo.byKey(tenant.orgId, tenant.userId, key);
    if (!prior) return null;
    if (prior.recipientId !== recipientId) throw P.keyReused();
    return prior.threadId;
  }

  /** New threads are limited per user (30 an hour by default); fails open without Redis. */
  private async countNewThread(tenant: Tenant): Promise<void> {
    const limit = this.config.rateLimits.threadsPerHour;
    const used = await this.limiter.consume(`threads:${tenant.orgId}:${tenant.userId}`, 3600_000);
    if (used && used.hits > limit) {
      throw P.threadLimit({
        detail: `You can start at most ${limit} new threads an hour; retry after the number of seconds in Retry-After.`,
        headers: { 'retry-after': String(Math.max(1, Math.ceil(used.resetMs / 1000))) },
      });
    }
  }
}

/** The problem of each refused send. */
const SEND_REFUSALS: Record<Exclude<SendStatus, 'created' | 'repeat'>, () => Error> = {
  'key-conflict': () => P.keyReused(),
  'in-progress': () => P.requestInProgress(),
  'not-found': () => P.threadNotFound(),
  'blocked-by-you': () => P.blockedByYou(),
  'recipient-inactive': () => P.recipientInactive(),
};

/** The problem of each refused read of a page. */
const PAGE_REFUSALS: Record<string, () => Error> = {
  'thread-not-found': () => P.threadNotFound(),
  'before-not-visible': () => P.beforeNotVisible(),
  'after-not-visible': () => P.afterNotVisible(),
};

function pageRefusal(status: string): Error {
  const problem = PAGE_REFUSALS[status] as (() => Error) | undefined;
  return problem ? problem() : new Error(`unexpected page refusal ${status}`);
}

type ListKey = [activityKey: string, threadId: string];
const LIST_CURSOR = ['timestamp', 'uuid'] as const;

/**
 * A page as the API answers it, from rows in the order PostgreSQL chose them: after a cursor,
 * oldest first (`limit` rows); otherwise newest first (`limit` + 1 rows, the extra one telling
 * that older messages exist). Always chronological; `nextCursor` is the id to pass as `before`.
 */
function cutPage(
  ctx: ViewerContext,
  rows: MessageRow[],
  limit: number,
  after: boolean,
): MessagePageResponse {
  if (after) {
    // The `after` message itself is older and visible, so a non-empty page has older messages.
    return { data: rows.map((r) => toMessageResponse(r, ctx)), nextCursor: rows[0]?.id ?? null };
  }
  const more = rows.length > limit;
  const page = (more ? rows.slice(0, limit) : rows).reverse();
  return {
    data: page.map((r) => toMessageResponse(r, ctx)),
    nextCursor: more ? page[0].id : null,
  };
}

function sendRefusal(status: string): Error {
  const problem = SEND_REFUSALS[status as keyof typeof SEND_REFUSALS] as (() => Error) | undefined;
  return problem ? problem() : new Error(`unexpected send status ${status}`);
}

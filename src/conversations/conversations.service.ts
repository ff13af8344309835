import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { cursorList, type Page, type PageQuery } from '../platform/http/pagination';
import { RateLimiter } from '../platform/ratelimit/rate-limiter.service';
import type { Principal } from '../platform/auth/principal';
import type { Tenant } from '../platform/tenancy/tenant-context';
import { RouteRefused, TenantRunner } from '../platform/tenancy/tenant-runner.service';
import { ConversationProblems as P } from './conversations.problems';
import { ConversationsRepository, type ThreadParticipantRow } from './conversations.repository';
import {
  participantOf,
  toViewerContext,
  type ParticipantView,
  type SendResult,
  type SendStatus,
  type ViewerContext,
} from './conversations.rows';
import { MessageQueries, type SendInput as SendRequest } from './conversations.queries';
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

  list(tenant: Tenant, query: PageQuery): Promise<Page<ThreadResponse>> {
    const me = participantOf(tenant);
    return cursorList(
      query,
      ['timestamp', 'uuid'],
      (limit, after: [string, string] | null) =>
        this.repo.list(tenant.orgId, tenant.userId, limit, after),
      (row) => toThreadResponse(row, me),
      (row): [string, string] => [row.activityKey, row.id],
    );
  }

  async view(tenant: Tenant, threadId: string, limit?: number): Promise<ThreadViewResponse> {
    const row = await this.repo.one(threadId, tenant.userId);
    if (!row) throw P.threadNotFound();
    const me = participantOf(tenant);
    return {
      thread: toThreadResponse(row, me),
      messages: await this.page(toViewerContext(row, me), { limit }),
    };
  }

  // ---- messages ---------------------------------------------------------------------------

  /** The thread as the caller sees it; 404 when they are not a participant (or it does not exist). */
  async context(tenant: Tenant, threadId: string): Promise<ViewerContext> {
    const ctx = await this.repo.viewer(threadId, participantOf(tenant));
    if (!ctx) throw P.threadNotFound();
    return ctx;
  }

  async messages(
    tenant: Tenant,
    threadId: string,
    query: MessagesQuery,
  ): Promise<MessagePageResponse> {
    return this.page(await this.context(tenant, threadId), query);
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
    const { row } = await this.runner.callAsMember<UnreadCountResponse>(principal, {
      fn: 'rm_api_unread_count',
      params: [],
      columns: 'total, threads',
    });
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

  private async page(ctx: ViewerContext, query: MessagesQuery): Promise<MessagePageResponse> {
    if (query.before && query.after) throw P.beforeAndAfter();
    const limit = query.limit ?? DEFAULT_MESSAGE_PAGE;
    if (query.after) {
      const afterSeq = await this.cursorSeq(ctx, query.after, 'after');
      const rows = await this.repo.page(ctx, { afterSeq }, limit);
      // The `after` message itself is older and visible, so a non-empty page has older messages.
      return { data: rows.map((r) => toMessageResponse(r, ctx)), nextCursor: rows[0]?.id ?? null };
    }
    const beforeSeq = query.before ? await this.cursorSeq(ctx, query.before, 'before') : undefined;
    const rows = await this.repo.page(ctx, { beforeSeq }, limit + 1);
    const more = rows.length > limit;
    const page = (more ? rows.slice(0, limit) : rows).reverse();
    return {
      data: page.map((r) => toMessageResponse(r, ctx)),
      nextCursor: more ? page[0].id : null,
    };
  }

  private async cursorSeq(
    ctx: ViewerContext,
    id: string,
    field: 'before' | 'after',
  ): Promise<number> {
    const seq = await this.repo.visibleSeq(ctx, id);
    if (seq === null) throw field === 'before' ? P.beforeNotVisible() : P.afterNotVisible();
    return seq;
  }

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

function sendRefusal(status: string): Error {
  const problem = SEND_REFUSALS[status as keyof typeof SEND_REFUSALS] as (() => Error) | undefined;
  return problem ? problem() : new Error(`unexpected send status ${status}`);
}

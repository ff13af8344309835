import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { decodeCursor, pageLimit, type PageQuery } from '../platform/http/pagination';
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
  type ParticipantView,
  type SendResult,
  type SendStatus,
} from './conversations.rows';
import {
  MessageQueries,
  ThreadQueries,
  type SendInput as SendRequest,
} from './conversations.queries';
import type { MessageResponse, ReadResponse, UnreadCountResponse } from './dto/message.response';
import { DEFAULT_MESSAGE_PAGE, type MessagesQuery } from './dto/messages.query';
import type { StartThreadDto } from './dto/start-thread.dto';
import type { ThreadResponse } from './dto/thread.response';
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
    const row = await this.repo.one(threadId, participantOf(tenant));
    return { created, thread: row!.view, ...(message ? { message } : {}) };
  }

  /**
   * GET …/threads: the tenant entry and a page of the caller's threads as one statement
   * (rm_api_thread_list), answering the body as PostgreSQL renders it (JSON text).
   */
  async listAs(principal: Principal, query: PageQuery): Promise<string> {
    const limit = pageLimit(query.limit);
    const after = query.cursor ? decodeCursor<ListKey>(query.cursor, LIST_CURSOR) : null;
    const { row } = await this.runner.callAsMember<{ body: string }>(
      principal,
      ThreadQueries.list(after, limit),
    );
    return row.body;
  }

  /**
   * GET …/threads/:id: the tenant entry, the thread and its latest page as one statement
   * (rm_api_message_page with the thread), answering the body as PostgreSQL renders it (JSON text).
   */
  viewAs(principal: Principal, threadId: string, limit?: number): Promise<string> {
    return this.readRoute(
      principal,
      MessageQueries.threadView(threadId, limit ?? DEFAULT_MESSAGE_PAGE),
    );
  }

  // ---- messages ---------------------------------------------------------------------------

  /**
   * GET …/threads/:id/messages: the tenant entry, the cursor and the page as one statement
   * (rm_api_message_page), answering the body as PostgreSQL renders it (JSON text).
   */
  messagesAs(principal: Principal, threadId: string, query: MessagesQuery): Promise<string> {
    if (query.before && query.after) throw P.beforeAndAfter();
    return this.readRoute(
      principal,
      MessageQueries.messagePage(threadId, query, query.limit ?? DEFAULT_MESSAGE_PAGE),
    );
  }

  /** A read route's body, its refusals mapped to their problems. */
  private async readRoute(principal: Principal, route: RouteCall): Promise<string> {
    try {
      return (await this.runner.callAsMember<{ body: string }>(principal, route)).row.body;
    } catch (error) {
      if (!(error instanceof RouteRefused)) throw error;
      throw refusal(PAGE_REFUSALS, error.status);
    }
  }

  /** A send inside the caller's transaction (a thread's first message, with its start). */
  async send(
    tenant: Tenant,
    threadId: string,
    input: SendInput,
  ): Promise<{ created: boolean; message: MessageResponse }> {
    const result = await this.repo.send(this.sendRequest(tenant.userId, threadId, input));
    return this.sent(
      tenant,
      threadId,
      input,
      result,
      async () => (await this.repo.byId(tenant.userId, threadId, result.messageId!))!,
    );
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
      throw refusal(SEND_REFUSALS, error.status);
    }
    const { tenant, row } = called;
    return this.sent(tenant, threadId, input, row, () =>
      this.runner.runAsMember(
        principal,
        async () => (await this.repo.byId(principal.userId, threadId, row.messageId!))!,
      ),
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
        throw refusal(SEND_REFUSALS, result.status);
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
    return new Map(rows.map(({ viewerId, message }) => [`${viewerId}/${message.id}`, message]));
  }

  /** A thread as the viewer sees it in their list (null when they take no part in it). */
  async threadAsSeenBy(viewer: ParticipantView, threadId: string): Promise<ThreadResponse | null> {
    const row = await this.repo.one(threadId, viewer);
    return row?.view ?? null;
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

/** The problem a route's refusal status maps to (an unknown status is a bug: a plain Error). */
function refusal(problems: Record<string, () => Error>, status: string): Error {
  const problem = problems[status] as (() => Error) | undefined;
  return problem ? problem() : new Error(`unexpected refusal ${status}`);
}

type ListKey = [activityKey: string, threadId: string];
const LIST_CURSOR = ['timestamp', 'uuid'] as const;

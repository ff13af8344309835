import { Inject, Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { MessagesService, participantOf } from '../messages/messages.service';
import { MessagingProblems } from '../messages/messaging.problems';
import type { MessageResponse } from '../messages/dto/message.response';
import { ProblemError, Problems } from '../platform/http/problem';
import {
  decodeCursor,
  pageLimit,
  toPage,
  type Page,
  type PageQuery,
} from '../platform/http/pagination';
import { RateLimiter } from '../platform/ratelimit/rate-limiter.service';
import type { Tenant } from '../platform/tenancy/tenant-context';
import { toThreadResponse, viewerOf } from './dto/thread.mapper';
import type { ThreadResponse, ThreadViewResponse } from './dto/thread.response';
import type { StartThreadDto } from './dto/start-thread.dto';
import { ThreadsRepository } from './threads.repository';

/** Direct threads: get-or-create, the caller's list with previews, one thread with its latest page. */
@Injectable()
export class ThreadsService {
  constructor(
    private readonly repo: ThreadsRepository,
    private readonly messages: MessagesService,
    private readonly limiter: RateLimiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async start(
    tenant: Tenant,
    input: StartThreadDto,
    key: string | null,
  ): Promise<{ created: boolean; thread: ThreadResponse; message?: MessageResponse }> {
    const recipientId = input.recipientId.toLowerCase();
    if (recipientId === tenant.userId) {
      throw Problems.badRequest('You cannot start a thread with yourself.', 'recipientId');
    }
    if (key && input.body === undefined) {
      throw Problems.badRequest('An idempotency key needs a body to send.', 'clientMessageId');
    }
    // A repeat of a keyed start answers with what it created, even if the recipient could not be
    // started with any more (deactivated, hidden or blocking since): the message exists.
    const repeatOf = key ? await this.messages.threadOfKey(tenant, key, recipientId) : null;
    const result = repeatOf
      ? { status: 'existing' as const, threadId: repeatOf }
      : await this.repo.start(uuidv7(), tenant.userId, tenant.role, recipientId);
    if (result.status === 'not-found') throw MessagingProblems.recipientNotFound();
    if (result.status === 'blocked-by-you') throw MessagingProblems.blockedByYou();
    const threadId = result.threadId!;
    const created = result.status === 'created';
    if (created) await this.countNewThread(tenant);

    let message: MessageResponse | undefined;
    if (input.body !== undefined) {
      ({ message } = await this.messages.send(tenant, threadId, {
        body: input.body,
        key,
        first: created,
      }));
    }
    const row = await this.repo.one(threadId, tenant.userId);
    return {
      created,
      thread: toThreadResponse(row!, participantOf(tenant)),
      ...(message ? { message } : {}),
    };
  }

  async list(tenant: Tenant, query: PageQuery): Promise<Page<ThreadResponse>> {
    const limit = pageLimit(query.limit);
    const after = query.cursor
      ? decodeCursor<[string, string]>(query.cursor, ['timestamp', 'uuid'])
      : null;
    const rows = await this.repo.list(tenant.orgId, tenant.userId, limit + 1, after);
    const me = participantOf(tenant);
    return toPage(
      rows,
      limit,
      (row) => toThreadResponse(row, me),
      (row) => [row.activityKey, row.id],
    );
  }

  async view(tenant: Tenant, threadId: string, limit?: number): Promise<ThreadViewResponse> {
    const row = await this.repo.one(threadId, tenant.userId);
    if (!row) throw MessagingProblems.threadNotFound();
    const me = participantOf(tenant);
    return {
      thread: toThreadResponse(row, me),
      messages: await this.messages.page(viewerOf(row, me), { limit }),
    };
  }

  /** New threads are limited per user (30 an hour by default); fails open without Redis. */
  private async countNewThread(tenant: Tenant): Promise<void> {
    const limit = this.config.rateLimits.threadsPerHour;
    const used = await this.limiter.consume(`threads:${tenant.orgId}:${tenant.userId}`, 3600_000);
    if (used && used.hits > limit) {
      throw new ProblemError(
        429,
        'rate-limited',
        'Too many requests',
        `You can start at most ${limit} new threads an hour; retry after the number of seconds in Retry-After.`,
        undefined,
        { 'retry-after': String(Math.max(1, Math.ceil(used.resetMs / 1000))) },
      );
    }
  }
}

import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { Problems } from '../platform/http/problem';
import type { Tenant } from '../platform/tenancy/tenant-context';
import { toMessageResponse } from './dto/message.mapper';
import type {
  MessagePageResponse,
  MessageResponse,
  ReadResponse,
  UnreadCountResponse,
} from './dto/message.response';
import { DEFAULT_MESSAGE_PAGE, type MessagesQuery } from './dto/messages.query';
import { requestHash } from './idempotency';
import { MessagingProblems } from './messaging.problems';
import {
  MessagesRepository,
  type ParticipantView,
  type ViewerContext,
} from './messages.repository';

export interface SendInput {
  body: string;
  /** Already resolved from clientMessageId / Idempotency-Key. */
  key: string | null;
  /** The first message of a thread created in this request (one thread.started notification). */
  first?: boolean;
}

/** Messages: send, page, soft delete, read pointer and receipts, unread counts. */
@Injectable()
export class MessagesService {
  constructor(private readonly repo: MessagesRepository) {}

  /** The thread as the caller sees it; 404 when they are not a participant (or it does not exist). */
  async context(tenant: Tenant, threadId: string): Promise<ViewerContext> {
    const ctx = await this.repo.viewer(threadId, participantOf(tenant));
    if (!ctx) throw MessagingProblems.threadNotFound();
    return ctx;
  }

  async page(ctx: ViewerContext, query: MessagesQuery): Promise<MessagePageResponse> {
    if (query.before && query.after) {
      throw Problems.badRequest('Pass either before or after, not both.', 'before');
    }
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

  async send(
    tenant: Tenant,
    threadId: string,
    input: SendInput,
  ): Promise<{ created: boolean; message: MessageResponse }> {
    const result = await this.repo.send({
      threadId,
      senderId: tenant.userId,
      id: uuidv7(),
      body: input.body,
      clientMessageId: input.key,
      hash: requestHash(input.body),
      first: input.first ?? false,
    });
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
      case 'repeat': {
        const ctx = await this.context(tenant, threadId);
        const row = await this.repo.byId(ctx, result.messageId!);
        return { created: false, message: toMessageResponse(row!, ctx) };
      }
      case 'key-conflict':
        throw MessagingProblems.keyReused();
      case 'in-progress':
        throw MessagingProblems.requestInProgress();
      case 'not-found':
        throw MessagingProblems.threadNotFound();
      case 'blocked-by-you':
        throw MessagingProblems.blockedByYou();
      case 'recipient-inactive':
        throw MessagingProblems.recipientInactive();
    }
  }

  /**
   * The thread a key was already used in by this sender, when that thread is with `recipientId`;
   * a key used in a thread with someone else is a conflict (422). Null when the key is new.
   */
  async threadOfKey(tenant: Tenant, key: string, recipientId: string): Promise<string | null> {
    const prior = await this.repo.byKey(tenant.orgId, tenant.userId, key);
    if (!prior) return null;
    if (prior.recipientId !== recipientId) throw MessagingProblems.keyReused();
    return prior.threadId;
  }

  async markRead(tenant: Tenant, threadId: string, upTo: string | null): Promise<ReadResponse> {
    const result = await this.repo.markRead(threadId, tenant.userId, upTo);
    if (result.status === 'not-found') {
      throw upTo ? MessagingProblems.messageNotFound() : MessagingProblems.threadNotFound();
    }
    return {
      threadId,
      lastReadMessageId: result.lastReadMessageId,
      readAt: result.lastReadAt ? new Date(result.lastReadAt).toISOString() : null,
    };
  }

  async delete(tenant: Tenant, threadId: string, messageId: string): Promise<void> {
    const status = await this.repo.delete(threadId, messageId, tenant.userId);
    if (status === 'not-found') throw MessagingProblems.messageNotFound();
    if (status === 'forbidden') throw MessagingProblems.notSender();
  }

  unreadCount(tenant: Tenant): Promise<UnreadCountResponse> {
    return this.repo.unreadCount(tenant.orgId, tenant.userId);
  }

  private async cursorSeq(
    ctx: ViewerContext,
    id: string,
    field: 'before' | 'after',
  ): Promise<number> {
    const seq = await this.repo.visibleSeq(ctx, id);
    if (seq === null) {
      throw Problems.badRequest(
        `${field} must be the id of a message of this thread that you can see`,
        field,
      );
    }
    return seq;
  }
}

export function participantOf(tenant: Tenant): ParticipantView {
  return {
    userId: tenant.userId,
    displayName: tenant.member.displayName,
    role: tenant.role,
    readReceipts: tenant.member.readReceipts,
    receiptsSince: new Date(tenant.member.receiptsSince),
  };
}

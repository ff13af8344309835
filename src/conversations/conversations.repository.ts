import { Injectable } from '@nestjs/common';
import type { MemberRole } from '../platform/auth/roles';
import { Db } from '../platform/tenancy/db.service';
import {
  MessageQueries,
  messageForViewer,
  messagesForViewers,
  type SendInput,
} from './conversations.queries';
import {
  partyParams,
  THREAD_VIEW_COLUMNS,
  type DeleteStatus,
  type ParticipantView,
  type ReadStatus,
  type SendResult,
  type StartStatus,
  type ThreadViewRow,
} from './conversations.rows';
import type { MessageResponse } from './dto/message.response';

/** A participant of a thread, with what deciding who may hear of its events needs. */
export interface ThreadParticipantRow extends ParticipantView {
  threadId: string;
  otherUserId: string;
  blocksOther: boolean;
}

/** Conversations in the database: the queries of conversations.queries.ts and the sql/ functions. */
@Injectable()
export class ConversationsRepository {
  constructor(private readonly db: Db) {}

  async start(
    callerId: string,
    callerRole: MemberRole,
    recipientId: string,
  ): Promise<{ status: StartStatus; threadId: string | null }> {
    const row = await this.db.one<{ status: StartStatus; threadId: string | null }>(
      `select status, thread_id as "threadId" from rm_start_thread(?, ?, ?)`,
      [callerId, callerRole, recipientId],
    );
    return row!;
  }

  /** One thread as `viewer` sees it (rm_thread_views); null when they take no part in it. */
  one(threadId: string, viewer: ParticipantView): Promise<ThreadViewRow | null> {
    return this.db.one<ThreadViewRow>(
      `select ${THREAD_VIEW_COLUMNS} from rm_thread_views(?, ?, ?, ?, ?, array[?::uuid])`,
      [...partyParams(viewer), threadId],
    );
  }

  /** One message of the thread as its participant `viewerId` sees it (rm_message_view). */
  async byId(
    viewerId: string,
    threadId: string,
    messageId: string,
  ): Promise<MessageResponse | null> {
    const [row] = await this.db.run<{ message: MessageResponse }>(
      messageForViewer(viewerId, threadId, messageId),
    );
    return row?.message ?? null;
  }

  async send(input: SendInput): Promise<SendResult> {
    const [row] = await this.db.run<SendResult>(MessageQueries.send(input));
    return row;
  }

  /** The thread and recipient of the caller's message sent with this idempotency key, if any. */
  async byKey(
    orgId: string,
    senderId: string,
    key: string,
  ): Promise<{ threadId: string; recipientId: string } | null> {
    return this.db.one<{ threadId: string; recipientId: string }>(
      `select m.thread_id as "threadId", tp.other_user_id as "recipientId"
         from messages m
         join thread_participants tp on tp.thread_id = m.thread_id and tp.user_id = m.sender_id
        where m.org_id = ? and m.sender_id = ? and m.client_message_id = ?`,
      [orgId, senderId, key],
    );
  }

  async markRead(
    threadId: string,
    readerId: string,
    upTo: string | null,
  ): Promise<{
    status: ReadStatus;
    lastReadMessageId: string | null;
    lastReadAt: string | null;
  }> {
    const row = await this.db.one<{
      status: ReadStatus;
      lastReadMessageId: string | null;
      lastReadAt: string | null;
    }>(
      `select status, last_read_message_id as "lastReadMessageId", last_read_at as "lastReadAt"
         from rm_mark_read(?, ?, ?)`,
      [threadId, readerId, upTo],
    );
    return row!;
  }

  async delete(threadId: string, messageId: string, userId: string): Promise<DeleteStatus> {
    const row = await this.db.one<{ status: DeleteStatus }>(
      `select status from rm_delete_message(?, ?, ?)`,
      [threadId, messageId, userId],
    );
    return row!.status;
  }

  /** Messages as given viewers see them (pairs a viewer may not see are left out). */
  async messagesForViewers(
    pairs: { viewerId: string; messageId: string }[],
  ): Promise<{ viewerId: string; message: MessageResponse }[]> {
    if (!pairs.length) return [];
    return this.db.run<{ viewerId: string; message: MessageResponse }>(
      messagesForViewers(
        pairs.map((p) => p.viewerId),
        pairs.map((p) => p.messageId),
      ),
    );
  }

  /** The two participants of each thread (for deciding who hears of an event). */
  participants(threadIds: string[]): Promise<ThreadParticipantRow[]> {
    if (!threadIds.length) return Promise.resolve([]);
    return this.db.query<ThreadParticipantRow>(
      `select tp.thread_id as "threadId", tp.user_id as "userId", tp.other_user_id as "otherUserId",
              tp.blocks_other as "blocksOther", m.display_name as "displayName", m.role,
              m.read_receipts as "readReceipts", m.receipts_since as "receiptsSince"
         from thread_participants tp
         join memberships m on m.org_id = tp.org_id and m.user_id = tp.user_id
        where tp.thread_id = any(?::uuid[])`,
      [threadIds],
    );
  }

  async unreadCounts(
    orgId: string,
    userIds: string[],
  ): Promise<Map<string, { total: number; threads: number }>> {
    const counts = new Map(userIds.map((u) => [u, { total: 0, threads: 0 }]));
    if (!userIds.length) return counts;
    const rows = await this.db.run<{ userId: string; total: number; threads: number }>(
      MessageQueries.unreadCounts(orgId, userIds),
    );
    for (const r of rows) counts.set(r.userId, { total: r.total, threads: r.threads });
    return counts;
  }
}

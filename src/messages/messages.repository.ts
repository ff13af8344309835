import { Injectable } from '@nestjs/common';
import { Db, type SqlQuery } from '../platform/tenancy/db.service';
import type { MemberRole } from '../platform/auth/roles';

/** One side of a direct thread, as needed to render messages and receipts. */
export interface ParticipantView {
  userId: string;
  displayName: string;
  role: MemberRole;
  readReceipts: boolean;
  receiptsSince: Date;
}

/**
 * Timestamps come back from the driver as strings (MikroORM installs pg type parsers that keep
 * them textual); mappers turn them into ISO-8601.
 */

/** Everything about a thread that rendering it for one viewer needs; null when not a participant. */
export interface ViewerContext {
  threadId: string;
  kind: 'direct';
  createdAt: string;
  blocksOther: boolean;
  lastReadSeq: number;
  lastVisibleSeq: number | null;
  me: ParticipantView;
  other: ParticipantView;
}

export interface MessageRow {
  id: string;
  threadId: string;
  seq: number;
  senderId: string;
  body: string | null;
  clientMessageId: string | null;
  createdAt: string;
  deletedAt: string | null;
  /** When the non-sender's read pointer first passed this message (receipt rules not applied yet). */
  seenAt: string | null;
}

export type SendStatus =
  | 'created'
  | 'repeat'
  | 'key-conflict'
  | 'in-progress'
  | 'not-found'
  | 'blocked-by-you'
  | 'recipient-inactive';

const MESSAGE_COLUMNS = `
  m.id, m.thread_id as "threadId", m.seq, m.sender_id as "senderId", m.body,
  m.client_message_id as "clientMessageId", m.created_at as "createdAt", m.deleted_at as "deletedAt"`;

/**
 * The receipt for message m: the range of the non-sender's read pointer that first passed it.
 * Placeholders: viewer, other, viewer.
 */
export const SEEN_AT = `
  (select mr.read_at from message_reads mr
    where mr.thread_id = m.thread_id
      and mr.reader_id = case when m.sender_id = ?::uuid then ?::uuid else ?::uuid end
      and mr.to_seq >= m.seq and mr.from_seq < m.seq
    order by mr.to_seq limit 1)`;

/** Who may see message m: its sender, or the other participant unless withheld or blocking. */
const VISIBLE = `(m.sender_id = ?::uuid or (not m.withheld and not ?::boolean))`;

export interface SendInput {
  threadId: string;
  senderId: string;
  id: string;
  body: string;
  clientMessageId: string | null;
  hash: Buffer;
  first: boolean;
}

export interface PageRange {
  beforeSeq?: number;
  afterSeq?: number;
}

/**
 * The hot read queries, as builders so that tests can EXPLAIN exactly what runs
 * (test/messaging/query-plans.test.ts).
 */
export const MessageQueries = {
  /** The thread as one participant sees it, with the other participant's display and receipts. */
  viewer(threadId: string, userId: string): SqlQuery {
    return {
      sql: `select t.id as "threadId", t.kind, t.created_at as "createdAt",
                   me.blocks_other as "blocksOther", me.last_read_seq as "lastReadSeq",
                   me.last_visible_seq as "lastVisibleSeq",
                   om.user_id as "otherId", om.display_name as "otherName", om.role as "otherRole",
                   om.read_receipts as "otherReceipts", om.receipts_since as "otherReceiptsSince"
              from thread_participants me
              join message_threads t on t.id = me.thread_id
              join memberships om on om.org_id = me.org_id and om.user_id = me.other_user_id
             where me.thread_id = ? and me.user_id = ?`,
      params: [threadId, userId],
    };
  },

  /**
   * A page of messages the viewer may see: newest first before `beforeSeq` (or from the end), or
   * oldest first after `afterSeq`. The caller orders the result chronologically.
   */
  page(ctx: ViewerContext, range: PageRange, limit: number): SqlQuery {
    const params: unknown[] = [ctx.threadId, ctx.me.userId, ctx.blocksOther];
    let where = '';
    if (range.beforeSeq !== undefined) {
      where = 'and m.seq < ?';
      params.push(range.beforeSeq);
    } else if (range.afterSeq !== undefined) {
      where = 'and m.seq > ?';
      params.push(range.afterSeq);
    }
    params.push(limit, ctx.threadId, ctx.me.userId, ctx.other.userId);
    params.push(ctx.me.userId, ctx.other.userId, ctx.me.userId);
    const order = range.afterSeq !== undefined ? 'asc' : 'desc';
    // The receipts: the few read ranges of both participants that overlap the page, read once,
    // then matched per message (cheaper than one index probe per message).
    return {
      sql: `with page as materialized (
              select m.id, m.thread_id, m.seq, m.sender_id, m.body, m.client_message_id, m.created_at, m.deleted_at
                from messages m
               where m.thread_id = ? and ${VISIBLE} ${where}
               order by m.seq ${order}
               limit ?
            ), reads as materialized (
              select mr.reader_id, mr.from_seq, mr.to_seq, mr.read_at
                from message_reads mr
               where mr.thread_id = ? and mr.reader_id in (?::uuid, ?::uuid)
                 and mr.to_seq >= (select min(seq) from page) and mr.from_seq < (select max(seq) from page)
            )
            select p.id, p.thread_id as "threadId", p.seq, p.sender_id as "senderId", p.body,
                   p.client_message_id as "clientMessageId", p.created_at as "createdAt",
                   p.deleted_at as "deletedAt",
                   (select r.read_at from reads r
                     where r.reader_id = case when p.sender_id = ?::uuid then ?::uuid else ?::uuid end
                       and r.to_seq >= p.seq and r.from_seq < p.seq
                     limit 1) as "seenAt"
              from page p
             order by p.seq ${order}`,
      params,
    };
  },

  /** The seq of a message the viewer can see in this thread (cursor resolution). */
  visibleSeq(ctx: ViewerContext, messageId: string): SqlQuery {
    return {
      sql: `select m.seq from messages m where m.id = ? and m.thread_id = ? and ${VISIBLE}`,
      params: [messageId, ctx.threadId, ctx.me.userId, ctx.blocksOther],
    };
  },

  send(input: SendInput): SqlQuery {
    return {
      sql: `select status, message_id as "messageId", seq, created_at as "createdAt"
              from rm_send_message(?, ?, ?, ?, ?, ?, ?)`,
      params: [
        input.threadId,
        input.senderId,
        input.id,
        input.body,
        input.clientMessageId,
        input.hash,
        input.first,
      ],
    };
  },

  unreadCount(orgId: string, userId: string): SqlQuery {
    return {
      sql: `select coalesce(sum(unread_count), 0)::int as total, count(*)::int as threads
              from thread_participants where org_id = ? and user_id = ? and unread_count > 0`,
      params: [orgId, userId],
    };
  },
};

/** A row of MessageQueries.viewer (ThreadQueries' rows carry the same fields). */
export interface ViewerRow {
  threadId?: string;
  id?: string;
  kind: 'direct';
  createdAt: string;
  blocksOther: boolean;
  lastReadSeq: number;
  lastVisibleSeq: number | null;
  otherId: string;
  otherName: string;
  otherRole: MemberRole;
  otherReceipts: boolean;
  otherReceiptsSince: string;
}

/** The viewer context from a viewer (or thread) row and the viewer's own membership. */
export function toViewerContext(row: ViewerRow, me: ParticipantView): ViewerContext {
  return {
    threadId: (row.threadId ?? row.id)!,
    kind: row.kind,
    createdAt: row.createdAt,
    blocksOther: row.blocksOther,
    lastReadSeq: row.lastReadSeq,
    lastVisibleSeq: row.lastVisibleSeq,
    me,
    other: {
      userId: row.otherId,
      displayName: row.otherName,
      role: row.otherRole,
      readReceipts: row.otherReceipts,
      receiptsSince: new Date(row.otherReceiptsSince),
    },
  };
}

@Injectable()
export class MessagesRepository {
  constructor(private readonly db: Db) {}

  async viewer(threadId: string, viewer: ParticipantView): Promise<ViewerContext | null> {
    const [row] = await this.db.run<ViewerRow>(MessageQueries.viewer(threadId, viewer.userId));
    return row ? toViewerContext(row, viewer) : null;
  }

  /** The seq of a message the viewer can see in this thread, or null. */
  async visibleSeq(ctx: ViewerContext, messageId: string): Promise<number | null> {
    const [row] = await this.db.run<{ seq: number }>(MessageQueries.visibleSeq(ctx, messageId));
    return row?.seq ?? null;
  }

  page(ctx: ViewerContext, range: PageRange, limit: number): Promise<MessageRow[]> {
    return this.db.run<MessageRow>(MessageQueries.page(ctx, range, limit));
  }

  async byId(ctx: ViewerContext, messageId: string): Promise<MessageRow | null> {
    return this.db.one<MessageRow>(
      `select ${MESSAGE_COLUMNS}, ${SEEN_AT} as "seenAt"
         from messages m where m.id = ? and m.thread_id = ?`,
      [ctx.me.userId, ctx.other.userId, ctx.me.userId, messageId, ctx.threadId],
    );
  }

  async send(input: SendInput): Promise<{
    status: SendStatus;
    messageId: string | null;
    seq: number | null;
    createdAt: string | null;
  }> {
    const [row] = await this.db.run<{
      status: SendStatus;
      messageId: string | null;
      seq: number | null;
      createdAt: string | null;
    }>(MessageQueries.send(input));
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
    status: 'moved' | 'unchanged' | 'not-found';
    lastReadMessageId: string | null;
    lastReadAt: string | null;
  }> {
    const row = await this.db.one<{
      status: 'moved' | 'unchanged' | 'not-found';
      lastReadMessageId: string | null;
      lastReadAt: string | null;
    }>(
      `select status, last_read_message_id as "lastReadMessageId", last_read_at as "lastReadAt"
         from rm_mark_read(?, ?, ?)`,
      [threadId, readerId, upTo],
    );
    return row!;
  }

  async delete(
    threadId: string,
    messageId: string,
    userId: string,
  ): Promise<'deleted' | 'already-deleted' | 'forbidden' | 'not-found'> {
    const row = await this.db.one<{
      status: 'deleted' | 'already-deleted' | 'forbidden' | 'not-found';
    }>(`select status from rm_delete_message(?, ?, ?)`, [threadId, messageId, userId]);
    return row!.status;
  }

  async unreadCount(orgId: string, userId: string): Promise<{ total: number; threads: number }> {
    const [row] = await this.db.run<{ total: number; threads: number }>(
      MessageQueries.unreadCount(orgId, userId),
    );
    return row ?? { total: 0, threads: 0 };
  }
}

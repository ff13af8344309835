import { Injectable } from '@nestjs/common';
import { Db, type SqlQuery } from '../platform/tenancy/db.service';
import type { MemberRole } from '../platform/auth/roles';
import type { MessageRow, ViewerRow } from '../messages/messages.repository';

/** A thread as its viewer sees it: the viewer state of MessageQueries.viewer, and the list fields. */
export interface ThreadRow extends Omit<ViewerRow, 'id' | 'threadId'> {
  id: string;
  lastMessageAt: string | null;
  unreadCount: number;
  /** activity_at with microseconds, for cursors. */
  activityKey: string;
  lastMessage: MessageRow | null;
}

type RawThreadRow = Omit<ThreadRow, 'lastMessage'> & {
  mId: string | null;
  mSeq: number | null;
  mSender: string | null;
  mBody: string | null;
  mClientId: string | null;
  mCreatedAt: string | null;
  mDeletedAt: string | null;
  mSeenAt: string | null;
};

/**
 * One row per thread as the viewer sees it: their participant state, the other participant, and
 * the last message they may see (joined by (thread, seq)) with its receipt. `source` is what
 * `tp` ranges over: for the list, a subquery that takes the page from thread_participants_list_idx
 * first (index order, LIMIT) so the joins run for that page only.
 */
const threadSelect = (source: string) => `
  select tp.thread_id as id, t.kind, t.created_at as "createdAt",
         tp.last_message_at as "lastMessageAt", tp.unread_count as "unreadCount",
         to_char(tp.activity_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "activityKey",
         tp.blocks_other as "blocksOther", tp.last_read_seq as "lastReadSeq",
         tp.last_visible_seq as "lastVisibleSeq",
         om.user_id as "otherId", om.display_name as "otherName", om.role as "otherRole",
         om.read_receipts as "otherReceipts", om.receipts_since as "otherReceiptsSince",
         m.id as "mId", m.seq as "mSeq", m.sender_id as "mSender", m.body as "mBody",
         m.client_message_id as "mClientId", m.created_at as "mCreatedAt", m.deleted_at as "mDeletedAt",
         (select mr.read_at from message_reads mr
           where mr.thread_id = tp.thread_id
             and mr.reader_id = case when m.sender_id = tp.user_id then tp.other_user_id else tp.user_id end
             and mr.to_seq >= m.seq and mr.from_seq < m.seq
           order by mr.to_seq limit 1) as "mSeenAt"
    from ${source} tp
    join message_threads t on t.id = tp.thread_id
    join memberships om on om.org_id = tp.org_id and om.user_id = tp.other_user_id
    left join messages m on m.thread_id = tp.thread_id and m.seq = tp.last_visible_seq`;

/** The thread queries, as builders so that tests and the bench run exactly what the service runs. */
export const ThreadQueries = {
  list(
    orgId: string,
    userId: string,
    limit: number,
    after: [activityKey: string, threadId: string] | null,
  ): SqlQuery {
    const params: unknown[] = [orgId, userId];
    let cursor = '';
    if (after) {
      cursor = 'and (p.activity_at, p.thread_id) < (?::timestamptz, ?::uuid)';
      params.push(...after);
    }
    params.push(limit);
    return {
      sql: `${threadSelect(`(select * from thread_participants p
                                where p.org_id = ? and p.user_id = ? and p.listed ${cursor}
                                order by p.activity_at desc, p.thread_id desc
                                limit ?)`)}
             order by tp.activity_at desc, tp.thread_id desc`,
      params,
    };
  },

  one(threadId: string, userId: string): SqlQuery {
    return {
      sql: `${threadSelect('thread_participants')} where tp.thread_id = ? and tp.user_id = ?`,
      params: [threadId, userId],
    };
  },
};

export type StartStatus = 'created' | 'existing' | 'not-found' | 'blocked-by-you';

@Injectable()
export class ThreadsRepository {
  constructor(private readonly db: Db) {}

  async start(
    id: string,
    callerId: string,
    callerRole: MemberRole,
    recipientId: string,
  ): Promise<{ status: StartStatus; threadId: string | null }> {
    const row = await this.db.one<{ status: StartStatus; threadId: string | null }>(
      `select status, thread_id as "threadId" from rm_start_thread(?, ?, ?, ?)`,
      [id, callerId, callerRole, recipientId],
    );
    return row!;
  }

  async list(
    orgId: string,
    userId: string,
    limit: number,
    after: [activityKey: string, threadId: string] | null,
  ): Promise<ThreadRow[]> {
    const rows = await this.db.run<RawThreadRow>(ThreadQueries.list(orgId, userId, limit, after));
    return rows.map(unpack);
  }

  async one(threadId: string, userId: string): Promise<ThreadRow | null> {
    const [row] = await this.db.run<RawThreadRow>(ThreadQueries.one(threadId, userId));
    return row ? unpack(row) : null;
  }
}

function unpack(row: RawThreadRow): ThreadRow {
  const { mId, mSeq, mSender, mBody, mClientId, mCreatedAt, mDeletedAt, mSeenAt, ...thread } = row;
  return {
    ...thread,
    lastMessage: mId
      ? {
          id: mId,
          threadId: row.id,
          seq: mSeq!,
          senderId: mSender!,
          body: mBody,
          clientMessageId: mClientId,
          createdAt: mCreatedAt!,
          deletedAt: mDeletedAt,
          seenAt: mSeenAt,
        }
      : null,
  };
}

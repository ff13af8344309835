import type { SqlQuery } from '../platform/tenancy/db.service';
import type { ViewerContext } from './conversations.rows';

/**
 * The SQL of conversations, as builders: the repository runs exactly these, and the query-plan
 * test and the bench EXPLAIN exactly these (test/messaging/query-plans.test.ts, bench/plans.ts).
 */

export const MESSAGE_COLUMNS = `
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
              from rm_send_message(?, ?, ?, ?, ?, ?)`,
      params: [
        input.threadId,
        input.senderId,
        input.body,
        input.clientMessageId,
        input.hash,
        input.first,
      ],
    };
  },

  /** The send as a route function (TenantRunner.callAsMember adds the tenant entry). */
  sendAs(input: SendInput): { fn: string; params: unknown[]; columns: string } {
    return {
      fn: 'rm_api_send_message',
      columns: `status, message_id as "messageId", seq, sent_at as "createdAt"`,
      params: [input.threadId, input.body, input.clientMessageId, input.hash, input.first],
    };
  },

  /** Several members' unread totals (members with none are left out). */
  unreadCounts(orgId: string, userIds: string[]): SqlQuery {
    return {
      sql: `select user_id as "userId", coalesce(sum(unread_count), 0)::int as total,
                   count(*)::int as threads
              from thread_participants
             where org_id = ? and user_id = any(?::uuid[]) and unread_count > 0
             group by user_id`,
      params: [orgId, userIds],
    };
  },

  /** The unread count as rm_api_unread_count computes it, bare (the bench's own floor runs it). */
  unreadCount(orgId: string, userId: string): SqlQuery {
    return {
      sql: `select coalesce(sum(unread_count), 0)::int as total, count(*)::int as threads
              from thread_participants where org_id = ? and user_id = ? and unread_count > 0`,
      params: [orgId, userId],
    };
  },
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

/**
 * Messages as given viewers see them, for many (viewer, message) pairs at once: the viewer's
 * context of the thread (their participant state, both memberships) with each message and its
 * receipt. Pairs whose message the viewer may not see are left out. The event streams render
 * with it.
 */
export function messagesForViewers(viewerIds: string[], messageIds: string[]): SqlQuery {
  return {
    sql: `select p.viewer_id as "viewerId",
                 m.id, m.thread_id as "threadId", m.seq, m.sender_id as "senderId", m.body,
                 m.client_message_id as "clientMessageId", m.created_at as "createdAt",
                 m.deleted_at as "deletedAt",
                 (select mr.read_at from message_reads mr
                   where mr.thread_id = m.thread_id
                     and mr.reader_id = case when m.sender_id = p.viewer_id then me.other_user_id
                                             else p.viewer_id end
                     and mr.to_seq >= m.seq and mr.from_seq < m.seq
                   order by mr.to_seq limit 1) as "seenAt",
                 t.kind, t.created_at as "threadCreatedAt",
                 me.blocks_other as "blocksOther", me.last_read_seq as "lastReadSeq",
                 me.last_visible_seq as "lastVisibleSeq",
                 vm.display_name as "meName", vm.role as "meRole",
                 vm.read_receipts as "meReceipts", vm.receipts_since as "meReceiptsSince",
                 om.user_id as "otherId", om.display_name as "otherName", om.role as "otherRole",
                 om.read_receipts as "otherReceipts", om.receipts_since as "otherReceiptsSince"
            from unnest(?::uuid[], ?::uuid[]) as p(viewer_id, message_id)
            join messages m on m.id = p.message_id
            join thread_participants me on me.thread_id = m.thread_id and me.user_id = p.viewer_id
            join message_threads t on t.id = m.thread_id
            join memberships vm on vm.org_id = me.org_id and vm.user_id = me.user_id
            join memberships om on om.org_id = me.org_id and om.user_id = me.other_user_id
           where m.sender_id = p.viewer_id or (not m.withheld and not me.blocks_other)`,
    params: [viewerIds, messageIds],
  };
}

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

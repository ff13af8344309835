import type { SqlQuery } from '../platform/tenancy/db.service';
import type { RouteCall } from '../platform/tenancy/tenant-runner.service';

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

export interface SendInput {
  threadId: string;
  senderId: string;
  body: string;
  clientMessageId: string | null;
  hash: Buffer;
  first: boolean;
}

/**
 * The hot read queries, as builders so that tests can EXPLAIN exactly what runs
 * (test/messaging/query-plans.test.ts).
 */
export const MessageQueries = {
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
  sendAs(input: SendInput): RouteCall {
    return {
      fn: 'rm_api_send_message',
      columns: `status, message_id as "messageId", seq, sent_at as "createdAt"`,
      params: [input.threadId, input.body, input.clientMessageId, input.hash, input.first],
    };
  },

  /**
   * GET …/threads/:id as a route function: the thread (rm_thread_rows) and its newest `limit`
   * messages the caller may see, newest first (rm_message_page), as JSON.
   */
  threadView(threadId: string, limit: number): RouteCall {
    return { fn: 'rm_api_thread_view', params: [threadId, limit], columns: 'thread, messages' };
  },

  /**
   * GET …/threads/:id/messages as a route function: the thread and `limit` messages after
   * `after` (oldest first) or before `before` (newest first; from the end without either).
   */
  messagePage(
    threadId: string,
    cursor: { before?: string; after?: string },
    limit: number,
  ): RouteCall {
    return {
      fn: 'rm_api_message_page',
      params: [threadId, cursor.before ?? null, cursor.after ?? null, limit],
      columns: 'thread, messages',
    };
  },

  /** GET …/unread-count as a route function: the caller's unread messages and their threads. */
  unreadCountAs(): RouteCall {
    return { fn: 'rm_api_unread_count', params: [], columns: 'total, threads' };
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

/** The thread list as a route function: `limit` threads after the cursor, newest activity first. */
export const ThreadQueries = {
  list(after: [activityKey: string, threadId: string] | null, limit: number): RouteCall {
    return {
      fn: 'rm_api_thread_list',
      params: [after?.[0] ?? null, after?.[1] ?? null, limit],
      columns: 'threads',
    };
  },
};

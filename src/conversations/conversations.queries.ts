import type { SqlQuery } from '../platform/tenancy/db.service';
import type { RouteCall } from '../platform/tenancy/tenant-runner.service';

/**
 * The SQL of conversations, as builders: the repository runs exactly these, and the query-plan
 * test and the bench explain exactly these (test/messaging/query-plans.test.ts, bench/plans.ts).
 * Messages and threads are rendered by PostgreSQL (rm_message_view, rm_thread_views).
 */

/**
 * The receipt of message m (in scope as `m`): when the non-sender's read pointer first passed it,
 * as a lateral join `seen` (so rm_message_view, which takes it as a column, is inlined).
 */
const SEEN = `left join lateral (
    select mr.read_at from message_reads mr
     where mr.thread_id = m.thread_id
       and mr.reader_id = case when m.sender_id = me.user_id then me.other_user_id else me.user_id end
       and mr.to_seq >= m.seq and mr.from_seq < m.seq
     order by mr.to_seq limit 1) seen on true`;

/** rm_message_view's arguments for message m, its receipt `seen`, viewer `vm` and other `om`. */
const MESSAGE_VIEW = `rm_message_view(
    m.id, m.thread_id, m.seq, m.sender_id, m.body, m.client_message_id, m.created_at, m.deleted_at,
    seen.read_at,
    vm.user_id, vm.display_name, vm.role, vm.read_receipts, vm.receipts_since,
    om.user_id, om.display_name, om.role, om.read_receipts, om.receipts_since)`;

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
   * GET …/threads/:id as a route function: the response body as PostgreSQL renders it (the
   * thread, rm_thread_views, and its newest `limit` messages the caller may see, rm_message_page).
   */
  threadView(threadId: string, limit: number): RouteCall {
    return {
      fn: 'rm_api_message_page',
      params: [threadId, null, null, limit, true],
      columns: 'body',
    };
  },

  /**
   * GET …/threads/:id/messages as a route function: the response body as PostgreSQL renders it,
   * `limit` messages after `after` or before `before` (from the end without either).
   */
  messagePage(
    threadId: string,
    cursor: { before?: string; after?: string },
    limit: number,
  ): RouteCall {
    return {
      fn: 'rm_api_message_page',
      params: [threadId, cursor.before ?? null, cursor.after ?? null, limit, false],
      columns: 'body',
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
 * Messages as given viewers see them, for many (viewer, message) pairs at once, rendered by
 * rm_message_view (the event streams send them). Pairs whose message the viewer may not see are
 * left out.
 */
export function messagesForViewers(viewerIds: string[], messageIds: string[]): SqlQuery {
  return {
    sql: `select p.viewer_id as "viewerId", ${MESSAGE_VIEW} as message
            from unnest(?::uuid[], ?::uuid[]) as p(viewer_id, message_id)
            join messages m on m.id = p.message_id
            join thread_participants me on me.thread_id = m.thread_id and me.user_id = p.viewer_id
            join memberships vm on vm.org_id = me.org_id and vm.user_id = me.user_id
            join memberships om on om.org_id = me.org_id and om.user_id = me.other_user_id
            ${SEEN}
           where m.sender_id = p.viewer_id or (not m.withheld and not me.blocks_other)`,
    params: [viewerIds, messageIds],
  };
}

/** One message of a thread as its participant `viewerId` sees it (a send's repeat answers it). */
export function messageForViewer(viewerId: string, threadId: string, messageId: string): SqlQuery {
  return {
    sql: `select ${MESSAGE_VIEW} as message
            from messages m
            join thread_participants me on me.thread_id = m.thread_id and me.user_id = ?
            join memberships vm on vm.org_id = me.org_id and vm.user_id = me.user_id
            join memberships om on om.org_id = me.org_id and om.user_id = me.other_user_id
            ${SEEN}
           where m.id = ? and m.thread_id = ?`,
    params: [viewerId, messageId, threadId],
  };
}

/**
 * The thread list as a route function: the response body as PostgreSQL renders it, `limit`
 * threads after the cursor, newest activity first.
 */
export const ThreadQueries = {
  list(after: [activityKey: string, threadId: string] | null, limit: number): RouteCall {
    return {
      fn: 'rm_api_thread_list',
      params: [after?.[0] ?? null, after?.[1] ?? null, limit],
      columns: 'body',
    };
  },
};

/**
 * The minimal floor's SQL (../shared/floor: page.sql, unread.sql, send.sql) as the ceiling's
 * services run it (bench/ceiling-app.ts, bench/ceiling-raw-app.ts), with the floor's keys: named
 * statements for node-postgres.
 */

export const thread = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
export const org = (n: number) =>
  `00000000-0000-4000-a000-${String(((n - 1) % 10) + 1).padStart(12, '0')}`;
export const sender = (n: number) =>
  `00000000-0000-4000-9000-${String(((n - 1) % 10) * 100 + (Math.floor((n - 1) / 10) % 100) + 1).padStart(12, '0')}`;
export const user = (n: number) => `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`;

export const PAGE = {
  name: 'ceiling_page',
  text: `SELECT id, sender_id, body, created_at FROM messages
          WHERE thread_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 50`,
};
/** PAGE rendered as JSON text by PostgreSQL (json_agg), passed through by the service untouched. */
export const PAGE_JSON = {
  name: 'ceiling_page_json',
  text: `SELECT coalesce(json_agg(m), '[]')::text AS data FROM (
           SELECT id, sender_id, body, created_at FROM messages
            WHERE thread_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 50) m`,
};
export const UNREAD = {
  name: 'ceiling_unread',
  text: `SELECT count(*)::int AS total FROM thread_participants tp
           JOIN messages m ON m.thread_id = tp.thread_id
            AND m.created_at > coalesce(tp.last_read_at, '-infinity'::timestamptz)
            AND m.sender_id <> tp.user_id AND m.deleted_at IS NULL
          WHERE tp.user_id = $1`,
};
/** send.sql's transaction (insert, bump, outbox row) as one statement: one round trip. */
export const SEND = {
  name: 'ceiling_send',
  text: `WITH m AS (
           INSERT INTO messages (id, thread_id, org_id, sender_id, body, created_at)
           VALUES (gen_random_uuid(), $1, $2, $3, $4, now()) RETURNING id, created_at
         ), t AS (
           UPDATE message_threads SET last_message_at = now() WHERE id = $1
         ), o AS (
           INSERT INTO notification_outbox (id, org_id, event_type, payload)
           VALUES (gen_random_uuid(), $2, 'message.created',
                   jsonb_build_object('threadId', $1::text, 'senderId', $3::text))
         )
         SELECT id, created_at FROM m`,
};

-- A message as the API answers it to `me` (SPEC §4 "Message"), as JSON: the sender's display
-- name and role, the body (null once deleted: a tombstone), the sender's idempotency key (to the
-- sender only), and the receipt: who saw it and when, shown only when both `me` and the reader
-- (the participant who did not send it) have read receipts on, and only for a read made since
-- both last turned them on (SPEC §2 "Read receipts"; the same rule as receipts.ts, which the
-- event streams' read events use). `p_seen_at` is when the reader's pointer first passed the
-- message, or null. Times are compared at the precision the API shows them (milliseconds).
-- Plain SQL without a subquery, so the planner inlines it into the queries that render messages
-- (rm_message_page, rm_thread_views, the service's single messages).
create or replace function rm_message_view(
  p_id uuid, p_thread uuid, p_seq integer, p_sender uuid, p_body text, p_client_id text,
  p_created_at timestamptz, p_deleted_at timestamptz, p_seen_at timestamptz,
  p_me uuid, p_me_name text, p_me_role text, p_me_receipts boolean, p_me_since timestamptz,
  p_other uuid, p_other_name text, p_other_role text, p_other_receipts boolean, p_other_since timestamptz
)
returns json
language sql stable as $$
  select json_build_object(
    'id', p_id,
    'threadId', p_thread,
    'seq', p_seq,
    'sender', case when p_sender = p_me
                   then json_build_object('userId', p_me, 'displayName', p_me_name, 'role', p_me_role)
                   else json_build_object('userId', p_other, 'displayName', p_other_name, 'role', p_other_role) end,
    'body', case when p_deleted_at is null then p_body end,
    'clientMessageId', case when p_sender = p_me then p_client_id end,
    'createdAt', rm_iso(p_created_at),
    'deleted', p_deleted_at is not null,
    'deletedAt', rm_iso(p_deleted_at),
    'seenBy', case when p_seen_at is not null and p_me_receipts
                        and case when p_sender = p_me then p_other_receipts else true end
                        and date_trunc('milliseconds', p_seen_at)
                            >= date_trunc('milliseconds', case when p_sender = p_me
                                                               then greatest(p_me_since, p_other_since)
                                                               else p_me_since end)
                   then json_build_array(json_build_object(
                          'userId', case when p_sender = p_me then p_other else p_me end,
                          'seenAt', rm_iso(p_seen_at)))
                   else '[]'::json end
  )
$$;

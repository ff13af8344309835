-- GET /messages/unread-count in one statement (issue 17): the tenant entry (rm_api_enter), then
-- the caller's unread messages and the threads holding them, from the partial index of
-- participants with unread messages (thread_participants_unread_idx).
create or replace function rm_api_unread_count(
  p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean, p_roles text[], p_traceparent text
)
returns table (user_id uuid, display_name text, role text, visibility text, read_receipts boolean, receipts_since timestamptz, active boolean, created_at timestamptz, updated_at timestamptz, total integer, threads integer)
language plpgsql as $$
declare
  m record;
begin
  select * into m from rm_api_enter(p_org, p_user, p_name, p_role, p_jit, p_roles, p_traceparent);
  return query
  select m.user_id, m.display_name, m.role, m.visibility, m.read_receipts, m.receipts_since,
         m.active, m.created_at, m.updated_at,
         coalesce(sum(tp.unread_count), 0)::integer, count(*)::integer
    from thread_participants tp
   where tp.org_id = p_org and tp.user_id = p_user and tp.unread_count > 0;
end $$;

-- GET /messages/threads/:id in one statement (issue 17): the tenant entry (rm_api_enter), then the
-- response body as PostgreSQL renders it: {"thread": <rm_thread_views>, "messages": <the latest
-- p_limit messages the caller may see, rm_message_page>}. A thread the caller takes no part in
-- (or that does not exist) raises SQLSTATE RMREF 'thread-not-found': the statement rolls back
-- whole.
create or replace function rm_api_thread_view(
  p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean, p_roles text[], p_traceparent text,
  p_thread uuid, p_limit integer
)
returns table (user_id uuid, display_name text, role text, visibility text, read_receipts boolean, receipts_since timestamptz, active boolean, created_at timestamptz, updated_at timestamptz, body text)
language plpgsql as $$
declare
  m record;
  v record;
begin
  select * into m from rm_api_enter(p_org, p_user, p_name, p_role, p_jit, p_roles, p_traceparent);
  select * into v from rm_thread_views(p_user, m.display_name, m.role, m.read_receipts,
                                       m.receipts_since, array[p_thread]);
  if not found then
    raise exception using errcode = 'RMREF', message = 'thread-not-found';
  end if;
  return query select m.user_id, m.display_name, m.role, m.visibility, m.read_receipts,
                      m.receipts_since, m.active, m.created_at, m.updated_at,
                      json_build_object(
                        'thread', v.view,
                        'messages', rm_message_page(
                          p_thread, p_user, m.display_name, m.role, m.read_receipts, m.receipts_since,
                          v.other_id, v.other_name, v.other_role, v.other_receipts, v.other_since,
                          v.blocks_other, null, null, p_limit))::text;
end $$;

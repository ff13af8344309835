-- GET /messages/threads/:id in one statement (issue 17): the tenant entry (rm_api_enter), then the
-- thread as the caller sees it (rm_thread_rows) and its latest p_limit messages they may see
-- (rm_message_page, newest first). A thread the caller takes no part in (or that does not exist)
-- raises SQLSTATE RMREF 'thread-not-found': the statement rolls back whole.
create or replace function rm_api_thread_view(
  p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean, p_roles text[], p_traceparent text,
  p_thread uuid, p_limit integer
)
returns table (user_id uuid, display_name text, role text, visibility text, read_receipts boolean, receipts_since timestamptz, active boolean, created_at timestamptz, updated_at timestamptz, thread json, messages json)
language plpgsql as $$
declare
  m record;
  v_other uuid;
  v_blocks boolean;
begin
  select * into m from rm_api_enter(p_org, p_user, p_name, p_role, p_jit, p_roles, p_traceparent);
  select tp.other_user_id, tp.blocks_other into v_other, v_blocks
    from thread_participants tp where tp.thread_id = p_thread and tp.user_id = p_user;
  if not found then
    raise exception using errcode = 'RMREF', message = 'thread-not-found';
  end if;
  return query select m.user_id, m.display_name, m.role, m.visibility, m.read_receipts,
                      m.receipts_since, m.active, m.created_at, m.updated_at,
                      rm_thread_rows(p_user, array[p_thread]) -> 0,
                      rm_message_page(p_thread, p_user, v_other, v_blocks, null, null, p_limit);
end $$;

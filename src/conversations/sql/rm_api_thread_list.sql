-- GET /messages/threads in one statement (issue 17): the tenant entry (rm_api_enter), then a page
-- of the caller's listed threads, newest activity first, after the cursor (p_after_key,
-- p_after_id) when given. The page is taken from thread_participants_list_idx first (index
-- order, LIMIT) and only its threads are rendered (rm_thread_rows).
create or replace function rm_api_thread_list(
  p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean, p_roles text[], p_traceparent text,
  p_after_key timestamptz, p_after_id uuid, p_limit integer
)
returns table (user_id uuid, display_name text, role text, visibility text, read_receipts boolean, receipts_since timestamptz, active boolean, created_at timestamptz, updated_at timestamptz, threads json)
language plpgsql as $$
declare
  m record;
  v_ids uuid[];
begin
  select * into m from rm_api_enter(p_org, p_user, p_name, p_role, p_jit, p_roles, p_traceparent);
  if p_after_key is null then
    v_ids := array(
      select p.thread_id from thread_participants p
       where p.org_id = p_org and p.user_id = p_user and p.listed
       order by p.activity_at desc, p.thread_id desc limit p_limit);
  else
    v_ids := array(
      select p.thread_id from thread_participants p
       where p.org_id = p_org and p.user_id = p_user and p.listed
         and (p.activity_at, p.thread_id) < (p_after_key, p_after_id)
       order by p.activity_at desc, p.thread_id desc limit p_limit);
  end if;
  return query select m.user_id, m.display_name, m.role, m.visibility, m.read_receipts,
                      m.receipts_since, m.active, m.created_at, m.updated_at,
                      rm_thread_rows(p_user, v_ids);
end $$;

-- GET /messages/threads in one statement (issue 17): the tenant entry (rm_api_enter), then a page
-- of the caller's listed threads, newest activity first, after the cursor (p_after_key,
-- p_after_id) when given, as PostgreSQL renders it: {"data": [<rm_thread_views>...],
-- "nextCursor": ...}. The page is taken from thread_participants_list_idx first (index order, one
-- more than p_limit to know whether more follow) and only its threads are rendered. nextCursor is
-- the last thread's sort key, as the service's cursors are made (platform/http/pagination.ts):
-- base64url, without padding, of the JSON array [activityKey, id].
create or replace function rm_api_thread_list(
  p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean, p_roles text[], p_traceparent text,
  p_after_key timestamptz, p_after_id uuid, p_limit integer
)
returns table (user_id uuid, display_name text, role text, visibility text, read_receipts boolean, receipts_since timestamptz, active boolean, created_at timestamptz, updated_at timestamptz, body text)
language plpgsql as $$
declare
  m memberships;
  v_ids uuid[];
  v_more boolean;
begin
  m := rm_api_enter(p_org, p_user, p_name, p_role, p_jit, p_roles, p_traceparent);
  if p_after_key is null then
    v_ids := array(
      select p.thread_id from thread_participants p
       where p.org_id = p_org and p.user_id = p_user and p.listed
       order by p.activity_at desc, p.thread_id desc limit p_limit + 1);
  else
    v_ids := array(
      select p.thread_id from thread_participants p
       where p.org_id = p_org and p.user_id = p_user and p.listed
         and (p.activity_at, p.thread_id) < (p_after_key, p_after_id)
       order by p.activity_at desc, p.thread_id desc limit p_limit + 1);
  end if;
  v_more := cardinality(v_ids) > p_limit;
  if v_more then
    v_ids := v_ids[1:p_limit];
  end if;
  return query
  select m.user_id, m.display_name, m.role, m.visibility, m.read_receipts,
         m.receipts_since, m.active, m.created_at, m.updated_at,
         json_build_object(
           'data', coalesce(json_agg(t.view order by t.ordinality), '[]'::json),
           'nextCursor', case when v_more then translate(replace(rtrim(encode(convert_to(
                           '["' || (array_agg(t.activity_key order by t.ordinality))[p_limit] || '","'
                                || (array_agg(t.thread_id order by t.ordinality))[p_limit] || '"]',
                           'UTF8'), 'base64'), '='), E'\n', ''), '+/', '-_') end)::text
    from rm_thread_views(p_user, m.display_name, m.role, m.read_receipts, m.receipts_since, v_ids)
         with ordinality as t;
end $$;

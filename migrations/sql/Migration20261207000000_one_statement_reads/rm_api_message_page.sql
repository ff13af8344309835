-- GET /messages/threads/:id/messages and GET /messages/threads/:id, each in one statement
-- (issue 17): the tenant entry (rm_api_enter), the thread as the caller sees it (rm_thread_views:
-- the other participant, whether the caller blocks them), the cursor message's seq, then the
-- response body as PostgreSQL renders it: the page (rm_message_page: the oldest p_limit after
-- p_after, else the newest p_limit before p_before, or from the end), or with p_with_thread (the
-- thread view) {"thread": <the thread>, "messages": <its latest page>}. Refusals raise SQLSTATE
-- RMREF, so the statement rolls back whole: 'thread-not-found' (the caller takes no part in it),
-- 'before-not-visible' / 'after-not-visible' (the cursor is not a message of this thread the
-- caller may see).
create or replace function rm_api_message_page(
  p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean, p_roles text[], p_traceparent text,
  p_thread uuid, p_before uuid, p_after uuid, p_limit integer, p_with_thread boolean
)
returns table (user_id uuid, display_name text, role text, visibility text, read_receipts boolean, receipts_since timestamptz, active boolean, created_at timestamptz, updated_at timestamptz, body text)
language plpgsql as $$
declare
  m record;
  v record;
  v_cursor integer;
  v_page json;
begin
  select * into m from rm_api_enter(p_org, p_user, p_name, p_role, p_jit, p_roles, p_traceparent);
  select * into v from rm_thread_views(p_user, m.display_name, m.role, m.read_receipts,
                                       m.receipts_since, array[p_thread]);
  if not found then
    raise exception using errcode = 'RMREF', message = 'thread-not-found';
  end if;
  if coalesce(p_before, p_after) is not null then
    select ms.seq into v_cursor from messages ms
     where ms.id = coalesce(p_before, p_after) and ms.thread_id = p_thread
       and (ms.sender_id = p_user or (not ms.withheld and not v.blocks_other));
    if not found then
      raise exception using errcode = 'RMREF',
        message = case when p_before is not null then 'before-not-visible' else 'after-not-visible' end;
    end if;
  end if;
  v_page := rm_message_page(
    p_thread, p_user, m.display_name, m.role, m.read_receipts, m.receipts_since,
    v.other_id, v.other_name, v.other_role, v.other_receipts, v.other_since,
    v.blocks_other,
    case when p_before is not null then v_cursor end,
    case when p_after is not null then v_cursor end,
    p_limit);
  return query select m.user_id, m.display_name, m.role, m.visibility, m.read_receipts,
                      m.receipts_since, m.active, m.created_at, m.updated_at,
                      case when p_with_thread
                           then json_build_object('thread', v.view, 'messages', v_page)
                           else v_page end::text;
end $$;

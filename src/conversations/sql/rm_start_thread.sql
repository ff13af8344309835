-- Get-or-create the direct thread between the caller and a recipient, applying who may start
-- what. Statuses: created | existing | not-found | blocked-by-you. Race-free: the unique key on
-- (org, ordered pair) makes a concurrent second insert wait, then find the first one's thread.
-- Residents cannot start threads with hidden members, nor with someone who blocks them: the same
-- answer as for an unknown member, so a block looks like a member who turned hidden.
create or replace function rm_start_thread(p_caller uuid, p_caller_role text, p_recipient uuid)
returns table (status text, thread_id uuid)
language plpgsql as $$
declare
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_low uuid := least(p_caller, p_recipient);
  v_high uuid := greatest(p_caller, p_recipient);
  v_recipient memberships%rowtype;
  v_thread uuid;
  v_caller_blocks boolean;
  v_recipient_blocks boolean;
  v_now timestamptz := now();
  v_id uuid := rm_uuid_v7();
begin
  select * into v_recipient from memberships m where m.org_id = v_org and m.user_id = p_recipient;
  if not found or not v_recipient.active then
    return query select 'not-found'::text, null::uuid;
    return;
  end if;
  v_caller_blocks := exists (select 1 from user_blocks b
    where b.org_id = v_org and b.blocker_id = p_caller and b.blocked_id = p_recipient);
  v_recipient_blocks := exists (select 1 from user_blocks b
    where b.org_id = v_org and b.blocker_id = p_recipient and b.blocked_id = p_caller);

  select t.id into v_thread from message_threads t
    where t.org_id = v_org and t.user_low = v_low and t.user_high = v_high;
  if found then
    if v_caller_blocks then
      return query select 'blocked-by-you'::text, v_thread;
      return;
    end if;
    -- Re-opening a thread puts it back in the caller's list.
    update thread_participants tp set listed = true
      where tp.thread_id = v_thread and tp.user_id = p_caller and not tp.listed;
    return query select 'existing'::text, v_thread;
    return;
  end if;

  if v_caller_blocks then
    return query select 'blocked-by-you'::text, null::uuid;
    return;
  end if;
  -- Residents cannot start threads with hidden members, nor with someone who blocks them: the
  -- same answer as for an unknown member, so a block looks like a member who turned hidden.
  if p_caller_role = 'resident' and (v_recipient.visibility = 'hidden' or v_recipient_blocks) then
    return query select 'not-found'::text, null::uuid;
    return;
  end if;

  insert into message_threads (id, org_id, kind, user_low, user_high, created_by, created_at)
    values (v_id, v_org, 'direct', v_low, v_high, p_caller, v_now)
    on conflict (org_id, user_low, user_high) do nothing;
  if not found then
    select t.id into v_thread from message_threads t
      where t.org_id = v_org and t.user_low = v_low and t.user_high = v_high;
    return query select 'existing'::text, v_thread;
    return;
  end if;

  insert into thread_participants (org_id, thread_id, user_id, other_user_id, blocks_other, listed, activity_at)
    values (v_org, v_id, p_caller, p_recipient, false, true, v_now),
           -- A thread started by someone the recipient blocks stays out of the recipient's list.
           (v_org, v_id, p_recipient, p_caller, v_recipient_blocks, not v_recipient_blocks, v_now);
  insert into outbox_events (id, org_id, type, thread_id, actor_id, data, created_at)
    values (rm_uuid_v7(), v_org, 'thread.created', v_id, p_caller,
            jsonb_build_object('recipientId', p_recipient, 'silent', v_recipient_blocks), v_now);
  return query select 'created'::text, v_id;
end $$;

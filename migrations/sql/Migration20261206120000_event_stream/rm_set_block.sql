-- Block and unblock (AC-3). Statuses: created | existing | removed | absent | not-found.
--
-- A member can block (and unblock) whoever they already know: anyone they share a thread with,
-- and whoever is in their recipient directory (an active member of the org who, for a resident,
-- is also visible and does not block them: a blocker looks like a member who turned hidden).
-- Anyone else answers not-found, exactly like an unknown id, so the block API reveals no hidden
-- or deactivated member and no block. Someone who wrote to you can always be blocked, even after
-- turning hidden. A block that exists stays the blocker's to see and remove, whatever became of
-- the member since.
--
-- A block changes what the blocker sees of the thread with the blocked member, so the function
-- takes that thread's row lock (the lock every send takes): a send either commits before the block
-- (then the block hides it) or after (then it is withheld).
create or replace function rm_set_block(p_blocker uuid, p_blocked uuid, p_on boolean, p_blocker_role text)
returns table (status text, created_at timestamptz)
language plpgsql as $$
declare
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_target memberships%rowtype;
  v_thread uuid;
  v_created timestamptz;
begin
  select b.created_at into v_created from user_blocks b
    where b.org_id = v_org and b.blocker_id = p_blocker and b.blocked_id = p_blocked;
  if v_created is not null and p_on then
    return query select 'existing'::text, v_created;
    return;
  end if;
  if v_created is null then
    select * into v_target from memberships m where m.org_id = v_org and m.user_id = p_blocked;
    if not found
       or (not exists (select 1 from message_threads t
                        where t.org_id = v_org and t.user_low = least(p_blocker, p_blocked)
                          and t.user_high = greatest(p_blocker, p_blocked))
           and (not v_target.active
                or (p_blocker_role = 'resident'
                    and (v_target.visibility = 'hidden'
                         or exists (select 1 from user_blocks b
                                     where b.org_id = v_org and b.blocker_id = p_blocked
                                       and b.blocked_id = p_blocker))))) then
      return query select 'not-found'::text, null::timestamptz;
      return;
    end if;
    if not p_on then
      return query select 'absent'::text, null::timestamptz;
      return;
    end if;
    insert into user_blocks (org_id, blocker_id, blocked_id) values (v_org, p_blocker, p_blocked)
      on conflict do nothing returning user_blocks.created_at into v_created;
    if v_created is null then
      -- A concurrent request blocked first.
      select b.created_at into v_created from user_blocks b
        where b.org_id = v_org and b.blocker_id = p_blocker and b.blocked_id = p_blocked;
      return query select 'existing'::text, v_created;
      return;
    end if;
  else
    delete from user_blocks b
      where b.org_id = v_org and b.blocker_id = p_blocker and b.blocked_id = p_blocked
      returning b.created_at into v_created;
    if v_created is null then
      -- A concurrent request unblocked first.
      return query select 'absent'::text, null::timestamptz;
      return;
    end if;
  end if;

  select t.id into v_thread from message_threads t
    where t.org_id = v_org and t.user_low = least(p_blocker, p_blocked)
      and t.user_high = greatest(p_blocker, p_blocked)
    for no key update;
  if found then
    update thread_participants tp set blocks_other = p_on
      where tp.thread_id = v_thread and tp.user_id = p_blocker;
    perform rm_refresh_participant(v_thread, p_blocker);
    -- The blocker's unread count may have changed: their own event streams hear of it (an
    -- internal event: no webhook, no notification, nothing the blocked member can observe).
    insert into outbox_events (id, org_id, type, actor_id, data)
      values (rm_uuid_v7(), v_org, 'unread.changed', p_blocker,
              jsonb_build_object('userId', p_blocker));
  end if;
  return query select case when p_on then 'created' else 'removed' end, v_created;
end $$;

-- Soft delete by the sender. Statuses: deleted | already-deleted | forbidden (visible, not yours)
-- | not-found (unknown or not visible to the caller). The tombstone stays visible (and in
-- previews); it just stops counting as unread. The text goes everywhere it was kept: webhook
-- deliveries rendered with it (endpoints with includeMessageBody) lose it for every pending and
-- future attempt, manual retries included.
create or replace function rm_delete_message(p_thread uuid, p_message uuid, p_user uuid)
returns table (status text)
language plpgsql as $$
declare
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_me thread_participants%rowtype;
  v_msg messages%rowtype;
  v_now timestamptz := now();
begin
  select * into v_me from thread_participants tp where tp.thread_id = p_thread and tp.user_id = p_user;
  if not found then
    return query select 'not-found'::text;
    return;
  end if;
  select * into v_msg from messages m where m.id = p_message and m.thread_id = p_thread for no key update;
  if not found or not (v_msg.sender_id = p_user or (not v_msg.withheld and not v_me.blocks_other)) then
    return query select 'not-found'::text;
    return;
  end if;
  if v_msg.sender_id <> p_user then
    return query select 'forbidden'::text;
    return;
  end if;
  if v_msg.deleted_at is not null then
    return query select 'already-deleted'::text;
    return;
  end if;
  update messages m set body = null, deleted_at = v_now where m.id = p_message;
  update webhook_deliveries d set payload = rm_payload_without_body(d.payload), body_message_id = null
    where d.org_id = v_org and d.body_message_id = p_message;
  -- The tombstone stays visible (and in previews); it just stops counting as unread.
  update thread_participants tp set unread_count = greatest(tp.unread_count - 1, 0)
    where tp.thread_id = p_thread and tp.user_id = v_me.other_user_id
      and tp.last_read_seq < v_msg.seq and not tp.blocks_other and not v_msg.withheld;
  insert into outbox_events (id, org_id, type, thread_id, message_id, actor_id, seq, created_at, published_at)
    values (rm_uuid_v7(), v_org, 'message.deleted', p_thread, p_message, p_user, v_msg.seq, v_now,
            case when v_msg.withheld then v_now end);
  return query select 'deleted'::text;
end $$;

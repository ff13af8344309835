-- Reading (or replying in) a thread marks the reader's notifications of that thread read.
create or replace function rm_after_read(p_thread uuid, p_user uuid)
returns void
language sql as $$
update notifications set read_at = now()
 where org_id = nullif(current_setting('app.org_id', true), '')::uuid
   and user_id = p_user and thread_id = p_thread and read_at is null
$$;

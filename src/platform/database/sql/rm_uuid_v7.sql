-- A time-ordered id (UUIDv7, millisecond precision) for rows created inside the database.
create or replace function rm_uuid_v7()
returns uuid
language sql as $$
select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing
  substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
  from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
$$;

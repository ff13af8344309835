-- A time-ordered id (UUIDv7) for rows created inside the database: the one generator of ids,
-- rm_uuid_v7_at, at the current clock.
create or replace function rm_uuid_v7()
returns uuid
language sql as $$
select rm_uuid_v7_at(clock_timestamp())
$$;

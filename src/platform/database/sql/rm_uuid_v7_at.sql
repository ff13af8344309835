-- A UUIDv7 for a given instant: 48 bits of Unix milliseconds, then (RFC 9562 method 3) 12 bits
-- of the sub-millisecond fraction, then 62 random bits. Distinct microseconds give increasing ids.
-- PL/pgSQL, not LANGUAGE sql (issue 17): a SQL function that cannot be inlined (this one reads its
-- argument twice) is parsed and planned again in every transaction that calls it, about 40 µs a
-- call, several times a send; PL/pgSQL keeps its plan for the session.
create or replace function rm_uuid_v7_at(p_at timestamptz)
returns uuid
language plpgsql as $$
declare
  e numeric := extract(epoch from p_at) * 1000;
begin
  return (lpad(to_hex(floor(e)::bigint), 12, '0') || '7' || lpad(to_hex(floor((e - floor(e)) * 4096)::int), 3, '0')
          || substr(replace(gen_random_uuid()::text, '-', ''), 17, 16))::uuid;
end $$;

-- A UUIDv7 for a given instant: 48 bits of Unix milliseconds, then (RFC 9562 method 3) 12 bits
-- of the sub-millisecond fraction, then 62 random bits. Distinct microseconds give increasing ids.
create or replace function rm_uuid_v7_at(p_at timestamptz)
returns uuid
language sql as $$
select (lpad(to_hex(ms), 12, '0') || '7' || lpad(to_hex(frac), 3, '0')
        || substr(replace(gen_random_uuid()::text, '-', ''), 17, 16))::uuid
  from (select floor(e)::bigint as ms, floor((e - floor(e)) * 4096)::int as frac
          from (select extract(epoch from p_at) * 1000 as e) x) y
$$;

-- A timestamp as the API writes it: ISO-8601 in UTC with milliseconds, truncated, as JavaScript's
-- Date#toISOString writes the same instant read from PostgreSQL ("2026-11-26T14:02:55.120Z");
-- null for null. Plain SQL, so the planner inlines it.
create or replace function rm_iso(p_at timestamptz)
returns text
language sql stable as $$
  select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

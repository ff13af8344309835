-- The tenant entry of a route that runs as one statement (one round trip, one implicit
-- transaction: issue 17): rm_enter_tenant (sets app.org_id and app.user_id for this transaction,
-- resolves or provisions the membership) and the request's W3C trace context for the outbox
-- (rm.traceparent, when traced). A member the route does not admit (no membership, an inactive
-- one, or a role outside p_roles when the route is restricted; null: every member role) is
-- refused with SQLSTATE RMREF and the reason as its message, so the whole statement rolls back:
-- a refused request changes nothing, as when the service ran it in a transaction of its own.
create or replace function rm_api_enter(
  p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean, p_roles text[], p_traceparent text
)
returns table (user_id uuid, display_name text, role text, visibility text, read_receipts boolean, receipts_since timestamptz, active boolean, created_at timestamptz, updated_at timestamptz)
language plpgsql as $$
declare
  m record;
begin
  if p_traceparent is not null then
    perform set_config('rm.traceparent', p_traceparent, true);
  end if;
  select * into m from rm_enter_tenant(p_org, p_user, p_name, p_role, p_jit);
  if not found or m.user_id is null then
    raise exception using errcode = 'RMREF', message = 'not-member';
  elsif not m.active then
    raise exception using errcode = 'RMREF', message = 'membership-inactive';
  elsif p_roles is not null and not m.role = any(p_roles) then
    raise exception using errcode = 'RMREF', message = 'role-refused';
  end if;
  return query select m.user_id, m.display_name, m.role, m.visibility, m.read_receipts,
                      m.receipts_since, m.active, m.created_at, m.updated_at;
end $$;

-- The tenant entry of a route that runs as one statement (one round trip, one implicit
-- transaction: issue 17): sets app.org_id and app.user_id for this transaction, and the request's
-- W3C trace context for the outbox (rm.traceparent, when traced); reads the caller's membership,
-- and on a first request (just-in-time provisioning) or when the token's claims changed, applies
-- rm_enter_tenant's rules first. A member the route does not admit (no membership, an inactive
-- one, or a role outside p_roles when the route is restricted; null: every member role) is
-- refused with SQLSTATE RMREF and the reason as its message, so the whole statement rolls back:
-- a refused request changes nothing, as when the service ran it in a transaction of its own.
-- Returns the membership row, so a route assigns it (m := rm_api_enter(…)): PL/pgSQL evaluates
-- such an assignment, and the set_config calls below, without running a query.
create or replace function rm_api_enter(
  p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean, p_roles text[], p_traceparent text
)
returns memberships
language plpgsql as $$
declare
  m memberships;
  v_set text;
begin
  v_set := set_config('app.org_id', p_org::text, true);
  v_set := set_config('app.user_id', coalesce(p_user::text, ''), true);
  if p_traceparent is not null then
    v_set := set_config('rm.traceparent', p_traceparent, true);
  end if;
  select * into m from memberships ms where ms.org_id = p_org and ms.user_id = p_user;
  if not found or (m.active and ((p_name is not null and p_name is distinct from m.token_name)
                                 or (p_role is not null and p_role is distinct from m.token_role))) then
    perform rm_enter_tenant(p_org, p_user, p_name, p_role, p_jit);
    select * into m from memberships ms where ms.org_id = p_org and ms.user_id = p_user;
  end if;
  if m.user_id is null then
    raise exception using errcode = 'RMREF', message = 'not-member';
  elsif not m.active then
    raise exception using errcode = 'RMREF', message = 'membership-inactive';
  elsif p_roles is not null and not m.role = any(p_roles) then
    raise exception using errcode = 'RMREF', message = 'role-refused';
  end if;
  return m;
end $$;

-- The first statement of every tenant transaction: sets app.org_id and app.user_id for this
-- transaction only (set_config(…, true): nothing leaks to the next user of a pooled connection),
-- then resolves the caller's membership, provisioning it just in time on a first request when
-- p_jit. Runs as the caller, so row-level security applies.
--
-- The token's name and role refresh the membership when *they* change (SPEC §2 "Authorization"),
-- not whenever they differ from it: memberships remember the claims last seen (token_name,
-- token_role), so a name or role set through the provisioning API stands until the identity
-- provider's claims change. A claim seen for the first time is recorded without being applied.
create or replace function rm_enter_tenant(p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean)
returns table (user_id uuid, display_name text, role text, visibility text, read_receipts boolean, receipts_since timestamptz, active boolean, created_at timestamptz, updated_at timestamptz)
language plpgsql as $$
declare
  m memberships%rowtype;
begin
  perform set_config('app.org_id', p_org::text, true),
          set_config('app.user_id', coalesce(p_user::text, ''), true);
  if p_user is null then
    return;
  end if;
  select * into m from memberships where memberships.org_id = p_org and memberships.user_id = p_user;
  if not found then
    if not p_jit or p_role is null then
      return;
    end if;
    insert into orgs (id) values (p_org) on conflict do nothing;
    insert into users (id) values (p_user) on conflict do nothing;
    insert into memberships (org_id, user_id, display_name, role, token_name, token_role)
      values (p_org, p_user, coalesce(p_name, 'Member ' || left(p_user::text, 8)), p_role, p_name, p_role)
      on conflict do nothing;
    select * into m from memberships where memberships.org_id = p_org and memberships.user_id = p_user;
  elsif m.active and ((p_name is not null and p_name is distinct from m.token_name)
                      or (p_role is not null and p_role is distinct from m.token_role)) then
    update memberships set
        -- A claim seen for the first time is recorded; one that changed since is applied.
        display_name = case when p_name is not null and m.token_name is not null
                              and p_name <> m.token_name then p_name else memberships.display_name end,
        role = case when p_role is not null and m.token_role is not null
                      and p_role <> m.token_role then p_role else memberships.role end,
        token_name = coalesce(p_name, memberships.token_name),
        token_role = coalesce(p_role, memberships.token_role),
        -- Recording a claim seen for the first time changes nothing a member can see.
        updated_at = case when (p_name is not null and m.token_name is not null and p_name <> m.token_name
                                and p_name <> memberships.display_name)
                            or (p_role is not null and m.token_role is not null and p_role <> m.token_role
                                and p_role <> memberships.role)
                          then now() else memberships.updated_at end
      where memberships.org_id = p_org and memberships.user_id = p_user
      returning * into m;
  end if;
  return query select m.user_id, m.display_name, m.role, m.visibility, m.read_receipts,
                      m.receipts_since, m.active, m.created_at, m.updated_at;
end $$;

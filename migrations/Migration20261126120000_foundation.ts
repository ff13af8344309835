import { Migration } from '@mikro-orm/migrations';

/**
 * Foundation: orgs, users, memberships, the runtime roles and the tenant wall (RLS).
 *
 * Roles (cluster-wide, created when missing; LOGIN and passwords are set by whoever deploys):
 * - rm_app: what the API and workers log in as. Owns nothing, NOSUPERUSER, NOBYPASSRLS, DML only.
 * - rm_relay: NOLOGIN. Owns the few SECURITY DEFINER functions that must cross orgs (outbox relay,
 *   reconciler, pruning); policies for it exist on the outbox and delivery-state tables only.
 */
export class Migration20261126120000_foundation extends Migration {
  override up(): void {
    this.addSql(`
      do $$ begin
        if not exists (select 1 from pg_roles where rolname = 'rm_app') then
          create role rm_app nologin nosuperuser nobypassrls nocreatedb nocreaterole;
        end if;
        if not exists (select 1 from pg_roles where rolname = 'rm_relay') then
          create role rm_relay nologin nosuperuser nobypassrls nocreatedb nocreaterole;
        end if;
      end $$;`);
    // Bounded work per statement and per transaction for the runtime role.
    this.addSql(`alter role rm_app set statement_timeout = '15s'`);
    this.addSql(`alter role rm_app set lock_timeout = '5s'`);
    this.addSql(`alter role rm_app set idle_in_transaction_session_timeout = '60s'`);
    this.addSql(`grant usage on schema public to rm_app, rm_relay`);

    // Time-ordered ids (UUIDv7) for rows created inside the database.
    this.addSql(`
      create or replace function rm_uuid_v7() returns uuid language sql volatile as $$
        select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing
          substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
          from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
      $$`);

    this.addSql(`
      create table orgs (
        id uuid primary key,
        created_at timestamptz not null default now()
      )`);
    // Global identities: an id and nothing private. Everything about a person in an org lives in
    // memberships, which is tenant-scoped.
    this.addSql(`
      create table users (
        id uuid primary key,
        created_at timestamptz not null default now()
      )`);
    this.addSql(`
      create table memberships (
        org_id uuid not null references orgs (id),
        user_id uuid not null references users (id),
        display_name text not null check (char_length(display_name) between 1 and 200),
        role text not null check (role in ('resident', 'manager', 'org_admin')),
        visibility text not null default 'visible' check (visibility in ('visible', 'hidden')),
        read_receipts boolean not null default true,
        receipts_since timestamptz not null default now(),
        active boolean not null default true,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        primary key (org_id, user_id)
      )`);
    this.addSql(
      `create index memberships_directory_idx on memberships (org_id, lower(display_name), user_id)`,
    );

    this.addSql(`grant select, insert on orgs to rm_app`);
    // Insert only: the app never lists global identities.
    this.addSql(`grant insert on users to rm_app`);
    this.addSql(`grant select, insert, update on memberships to rm_app`);

    // The tenant wall. A query with no tenant set sees nothing (fail closed).
    this.addSql(`alter table orgs enable row level security`);
    this.addSql(`alter table orgs force row level security`);
    this.addSql(`
      create policy tenant_isolation on orgs
        using (id = nullif(current_setting('app.org_id', true), '')::uuid)
        with check (id = nullif(current_setting('app.org_id', true), '')::uuid)`);
    this.addSql(tenantPolicy('memberships'));

    // One round trip per request: set the tenant for this transaction, then resolve (and, for a
    // first request, provision) the caller's membership. Runs as the caller (RLS applies).
    this.addSql(ENTER_TENANT);
    this.addSql(
      `grant execute on function rm_enter_tenant(uuid, uuid, text, text, boolean) to rm_app`,
    );
    this.addSql(`grant execute on function rm_uuid_v7() to rm_app, rm_relay`);
  }

  override down(): void {
    this.addSql(`drop function if exists rm_enter_tenant(uuid, uuid, text, text, boolean)`);
    this.addSql(`drop table if exists memberships`);
    this.addSql(`drop table if exists users`);
    this.addSql(`drop table if exists orgs`);
    this.addSql(`drop function if exists rm_uuid_v7()`);
  }
}

/** ENABLE + FORCE row level security with the fail-closed tenant policy on org_id. */
export function tenantPolicy(table: string): string {
  return `
    alter table ${table} enable row level security;
    alter table ${table} force row level security;
    create policy tenant_isolation on ${table}
      using (org_id = nullif(current_setting('app.org_id', true), '')::uuid)
      with check (org_id = nullif(current_setting('app.org_id', true), '')::uuid);`;
}

/** The first revision of rm_enter_tenant (see the audit-fixes migration for the current one). */
export const ENTER_TENANT = `
      create or replace function rm_enter_tenant(
        p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean
      ) returns table (
        user_id uuid, display_name text, role text, visibility text, read_receipts boolean,
        receipts_since timestamptz, active boolean, created_at timestamptz, updated_at timestamptz
      ) language plpgsql as $$
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
          insert into memberships (org_id, user_id, display_name, role)
            values (p_org, p_user, coalesce(p_name, 'Member ' || left(p_user::text, 8)), p_role)
            on conflict do nothing;
          select * into m from memberships where memberships.org_id = p_org and memberships.user_id = p_user;
        elsif m.active and ((p_name is not null and p_name <> m.display_name)
                            or (p_role is not null and p_role <> m.role)) then
          update memberships set display_name = coalesce(p_name, memberships.display_name),
                                 role = coalesce(p_role, memberships.role),
                                 updated_at = now()
            where memberships.org_id = p_org and memberships.user_id = p_user
            returning * into m;
        end if;
        return query select m.user_id, m.display_name, m.role, m.visibility, m.read_receipts,
                            m.receipts_since, m.active, m.created_at, m.updated_at;
      end $$`;

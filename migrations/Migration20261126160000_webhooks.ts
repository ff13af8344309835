import { Migration } from '@mikro-orm/migrations';
import { tenantPolicy } from './Migration20261126120000_foundation';

/**
 * Webhooks for integrators: endpoints (secrets encrypted at rest), one delivery per (event,
 * endpoint) with its rendered payload and state, and a log of every attempt.
 *
 * PostgreSQL owns the delivery schedule (status, attempts, next_attempt_at); the relay loop
 * dispatches deliveries when they are due through rm_relay_claim_deliveries, leasing each so it
 * is dispatched once; a lost job is re-dispatched when its lease runs out.
 *
 * webhook_routes (org, event type) says which orgs have an enabled endpoint for which events, so
 * the relay creates a webhooks consumer only for those events. It holds no URL and no secret, and
 * is the third table rm_relay may read.
 */
export class Migration20261126160000_webhooks extends Migration {
  override up(): void {
    this.addSql(`
      create table webhook_endpoints (
        id uuid primary key,
        org_id uuid not null references orgs (id),
        url text not null,
        description text,
        events text[] not null,
        include_message_body boolean not null default false,
        enabled boolean not null default true,
        disabled_reason text,
        disabled_at timestamptz,
        secret_ciphertext text not null,
        previous_secret_ciphertext text,
        previous_secret_expires_at timestamptz,
        failing_since timestamptz,
        created_by uuid not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint webhook_endpoints_events_check check (
          cardinality(events) > 0
          and events <@ array['thread.created', 'message.created', 'message.deleted', 'message.read']::text[]),
        constraint webhook_endpoints_disabled_reason_check check (disabled_reason in ('manual', 'gone', 'failing'))
      )`);
    this.addSql(
      `create index webhook_endpoints_org_idx on webhook_endpoints (org_id, created_at desc, id desc)`,
    );

    this.addSql(`
      create table webhook_routes (
        org_id uuid not null,
        event_type text not null,
        primary key (org_id, event_type)
      )`);

    this.addSql(`
      create table webhook_deliveries (
        id uuid primary key,
        org_id uuid not null,
        endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
        event_id uuid not null,
        event_type text not null
          check (event_type in ('thread.created', 'message.created', 'message.deleted', 'message.read')),
        webhook_id text not null,
        payload text not null,
        status text not null default 'pending' check (status in ('pending', 'failed', 'succeeded', 'exhausted')),
        attempts integer not null default 0,
        last_status_code integer,
        last_error text,
        next_attempt_at timestamptz,
        lease_until timestamptz,
        dispatches integer not null default 0,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint webhook_deliveries_event_endpoint_key unique (event_id, endpoint_id)
      )`);
    this.addSql(`
      create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, created_at desc, id desc)`);
    this.addSql(`
      create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at)
        where status in ('pending', 'failed')`);

    this.addSql(`
      create table webhook_attempts (
        id uuid primary key default rm_uuid_v7(),
        org_id uuid not null,
        delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
        attempt integer not null,
        started_at timestamptz not null,
        duration_ms integer not null,
        status_code integer,
        error text,
        response_body text,
        constraint webhook_attempts_delivery_attempt_key unique (delivery_id, attempt)
      )`);

    for (const table of [
      'webhook_endpoints',
      'webhook_routes',
      'webhook_deliveries',
      'webhook_attempts',
    ]) {
      this.addSql(tenantPolicy(table));
    }
    this.addSql(
      `grant select, insert, update, delete on webhook_endpoints, webhook_routes to rm_app`,
    );
    this.addSql(`grant select, insert, update on webhook_deliveries, webhook_attempts to rm_app`);

    // The relay's reads: routing (no URLs, no secrets) and the delivery schedule.
    this.addSql(`create policy relay_access on webhook_routes to rm_relay using (true)`);
    this.addSql(
      `create policy relay_access on webhook_deliveries to rm_relay using (true) with check (true)`,
    );
    this.addSql(`grant select on webhook_routes to rm_relay`);
    this.addSql(`grant select, update on webhook_deliveries to rm_relay`);

    // Notifications may now also tell org admins that an endpoint was disabled.
    this.addSql(`alter table notifications alter column thread_id drop not null`);
    this.addSql(`alter table notifications alter column actor_id drop not null`);
    this.addSql(
      `alter table notifications add column endpoint_id uuid references webhook_endpoints (id) on delete cascade`,
    );
    this.addSql(`alter table notifications drop constraint notifications_type_check`);
    this.addSql(`
      alter table notifications add constraint notifications_type_check check (
        (type in ('thread.started', 'message.received') and thread_id is not null and actor_id is not null)
        or (type = 'webhook.disabled' and endpoint_id is not null))`);

    this.addSql(RELAY_CLAIM);
    this.addSql(CLAIM_DELIVERIES);
    this.addSql(`alter function rm_relay_claim_deliveries(integer, interval) owner to rm_relay`);
    this.addSql(`revoke all on function rm_relay_claim_deliveries(integer, interval) from public`);
    this.addSql(`grant execute on function rm_relay_claim_deliveries(integer, interval) to rm_app`);
    this.addSql(EXPEDITE);
    this.addSql(`alter function rm_relay_expedite() owner to rm_relay`);
    this.addSql(`revoke all on function rm_relay_expedite() from public`);
    this.addSql(`grant execute on function rm_relay_expedite() to rm_app`);
    this.addSql(REFRESH_ROUTES);
    this.addSql(`grant execute on function rm_refresh_webhook_routes() to rm_app`);
  }

  override down(): void {
    this.addSql(`drop function if exists rm_refresh_webhook_routes()`);
    this.addSql(`drop function if exists rm_relay_expedite()`);
    this.addSql(`drop function if exists rm_relay_claim_deliveries(integer, interval)`);
    this.addSql(`delete from notifications where type = 'webhook.disabled'`);
    this.addSql(`alter table notifications drop column endpoint_id`);
    this.addSql(`drop table if exists webhook_attempts`);
    this.addSql(`drop table if exists webhook_deliveries`);
    this.addSql(`drop table if exists webhook_routes`);
    this.addSql(`drop table if exists webhook_endpoints`);
  }
}

/** As before, plus a webhooks consumer for events of orgs with an enabled, subscribed endpoint. */
export const RELAY_CLAIM = `
create or replace function rm_relay_claim(p_limit integer)
returns table (event_id uuid, org_id uuid, consumer text)
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  return query
  with claimed as (
    select e.id, e.org_id, e.type, e.data from outbox_events e
     where e.published_at is null
     order by e.created_at
     limit p_limit
     for update skip locked
  ), wanted as (
    select c.id, c.org_id, 'notifications'::text as consumer from claimed c
     where (c.type = 'thread.created' and coalesce(c.data ->> 'silent', '') <> 'true')
        or (c.type = 'message.created' and coalesce(c.data ->> 'first', '') <> 'true')
    union all
    select c.id, c.org_id, 'webhooks'::text from claimed c
     where exists (select 1 from webhook_routes r where r.org_id = c.org_id and r.event_type = c.type)
  ), recorded as (
    insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
    select w.id, w.org_id, w.consumer, now() + interval '1 minute' from wanted w
    on conflict do nothing
  ), published as (
    update outbox_events e set published_at = now() from claimed c where e.id = c.id
  )
  select c.id, c.org_id, w.consumer from claimed c left join wanted w on w.id = c.id;
end $$`;

/**
 * Deliveries that are due and not leased: lease them for p_lease (the job renews it when it
 * starts the attempt) and hand them out with the attempt number and a dispatch count for job ids.
 */
export const CLAIM_DELIVERIES = `
create or replace function rm_relay_claim_deliveries(p_limit integer, p_lease interval)
returns table (delivery_id uuid, org_id uuid, attempt integer, dispatches integer)
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  return query
  with due as (
    select d.id from webhook_deliveries d
     where d.status in ('pending', 'failed') and d.next_attempt_at <= now()
       and (d.lease_until is null or d.lease_until < now())
     order by d.next_attempt_at
     limit p_limit
     for update skip locked
  )
  update webhook_deliveries d set lease_until = now() + p_lease, dispatches = d.dispatches + 1
    from due where d.id = due.id
  returning d.id, d.org_id, d.attempts + 1, d.dispatches;
end $$`;

/**
 * Redis came back empty (restarted without persistence, or flushed): every job it held is gone.
 * Make all unfinished consumer work due now and drop the delivery leases, so the reconciler and
 * the relay re-dispatch at once instead of after their grace periods. Returns the rows touched.
 */
export const EXPEDITE = `
create or replace function rm_relay_expedite() returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_consumers integer;
  v_deliveries integer;
begin
  update event_consumers set next_attempt_at = now()
   where done_at is null and dead_at is null and next_attempt_at > now();
  get diagnostics v_consumers = row_count;
  update webhook_deliveries set lease_until = null
   where status in ('pending', 'failed') and lease_until > now();
  get diagnostics v_deliveries = row_count;
  return v_consumers + v_deliveries;
end $$`;

/** Rebuilds the current org's routing rows from its enabled endpoints. */
const REFRESH_ROUTES = `
create or replace function rm_refresh_webhook_routes() returns void language sql as $$
  delete from webhook_routes where org_id = nullif(current_setting('app.org_id', true), '')::uuid;
  insert into webhook_routes (org_id, event_type)
  select distinct e.org_id, unnest(e.events) from webhook_endpoints e
   where e.org_id = nullif(current_setting('app.org_id', true), '')::uuid and e.enabled;
$$`;

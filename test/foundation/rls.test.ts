import { Client, Pool } from 'pg';
import { createHttpApp } from '../../src/http-app';
import type { AppConfig } from '../../src/config/app-config';
import { deleteRedisKeys, startTestApp, testConfig, type TestApp } from '../support/test-app';
import { urlFor } from '../support/env';

/** Tables without org_id, each with the reason it needs none. A new one must be added here. */
const GLOBAL_TABLES: Record<string, string> = {
  orgs: 'the tenant itself; its policy is on id',
  users: 'global identities: an id and nothing private',
  mikro_orm_migrations: 'migration bookkeeping, not granted to the app role',
};

/** The reviewed exceptions to the tenant wall: functions that run as their owner. */
const SECURITY_DEFINER_FUNCTIONS: string[] = [
  'rm_relay_claim', // the outbox relay: claims unpublished events of every org (ids, org, type)
  'rm_relay_due', // the reconciler: consumer work that is due and not done
  'rm_relay_prune', // pruning of finished events
  'rm_relay_claim_deliveries', // webhook deliveries that are due (ids, org, attempt number)
  'rm_relay_expedite', // after Redis lost its data: make unfinished work due now
  'rm_events_claim', // the event pump: stream work that is due (ids, org)
  'rm_stream_prune', // pruning of stream events and used tickets past retention
  'rm_outbox_backlog', // the metrics: pending work per stage (counts and an age, no id)
];

/** Boots an app that is expected to refuse, and leaves nothing of it behind (its Redis keys). */
async function bootAndClose(
  config: AppConfig,
  options: { worker: boolean } = { worker: false },
): Promise<void> {
  const app = await createHttpApp(config, options);
  try {
    await app.init();
  } finally {
    await app.close().catch(() => undefined);
    await deleteRedisKeys(config.redis.url, `${config.redis.queuePrefix}:*`);
  }
}

describe('row-level security (the second wall)', () => {
  let t: TestApp;
  let app: Client;
  let owner: Client;
  let orgA: string;
  let orgB: string;

  beforeAll(async () => {
    t = await startTestApp();
    orgA = t.createOrg();
    orgB = t.createOrg();
    await t.createMember(orgA);
    await t.createMember(orgA);
    await t.createMember(orgB);
    app = new Client({
      connectionString: urlFor(t.database, { name: 'rm_app', password: 'rm_app' }),
    });
    owner = new Client({ connectionString: urlFor(t.database) });
    await app.connect();
    await owner.connect();
  });
  afterAll(async () => {
    await app.end();
    await owner.end();
    await t.close();
  });

  it('runs the service as a role that is not a superuser, cannot bypass RLS and owns no table', async () => {
    const { rows } = await app.query(
      `select rolsuper, rolbypassrls, current_user as role,
              (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = 'public' and pg_has_role(current_user, c.relowner, 'USAGE')) as owned
         from pg_roles where rolname = current_user`,
    );
    expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, role: 'rm_app', owned: 0 });
  });

  it('has RLS enabled and forced with a policy on every tenant table (catalog check)', async () => {
    const { rows } = await owner.query<{
      table: string;
      has_org_id: boolean;
      rls: boolean;
      forced: boolean;
      policies: number;
    }>(`
      select c.relname as table,
             exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped) as has_org_id,
             c.relrowsecurity as rls, c.relforcerowsecurity as forced,
             (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p')
       order by 1`);
    expect(rows.length).toBeGreaterThan(2);
    for (const row of rows) {
      if (!row.has_org_id) {
        expect({ table: row.table, allowed: row.table in GLOBAL_TABLES }).toEqual({
          table: row.table,
          allowed: true,
        });
        continue;
      }
      expect({
        table: row.table,
        rls: row.rls,
        forced: row.forced,
        hasPolicy: row.policies > 0,
      }).toEqual({
        table: row.table,
        rls: true,
        forced: true,
        hasPolicy: true,
      });
    }
    const tenantPolicies = await owner.query<{ table: string; qual: string }>(
      `select tablename as table, qual from pg_policies where schemaname = 'public' and policyname = 'tenant_isolation'`,
    );
    for (const p of tenantPolicies.rows) {
      expect(p.qual).toContain("current_setting('app.org_id'::text, true)");
    }
  });

  it('lists every SECURITY DEFINER function by name (a new exception is a reviewed change)', async () => {
    const { rows } = await owner.query<{ name: string; owner: string }>(
      `select p.proname as name, pg_get_userbyid(p.proowner) as owner
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.prosecdef order by 1`,
    );
    expect(rows.map((r) => r.name)).toEqual([...SECURITY_DEFINER_FUNCTIONS].sort());
    // They run as rm_relay, whose only policies are on the outbox, its consumer state, the
    // delivery schedule, the webhook routing table (no URLs, no secrets), whether an endpoint is
    // failing (two columns of the endpoints, below) and the stream tables it prunes (references
    // and ticket nonces, no text).
    expect(new Set(rows.map((r) => r.owner))).toEqual(new Set(['rm_relay']));
    const relayPolicies = await owner.query<{ table: string }>(
      `select tablename as table from pg_policies where 'rm_relay' = any(roles) order by 1`,
    );
    expect(relayPolicies.rows.map((r) => r.table)).toEqual([
      'event_consumers',
      'outbox_events',
      'stream_events',
      'stream_tickets',
      'webhook_deliveries',
      'webhook_endpoints',
      'webhook_routes',
    ]);
    const { rows: endpointColumns } = await owner.query<{ column: string }>(
      `select column_name as column from information_schema.columns
        where table_name = 'webhook_endpoints'
          and has_column_privilege('rm_relay', 'webhook_endpoints', column_name, 'select')
        order by 1`,
    );
    expect(endpointColumns.map((r) => r.column)).toEqual(['failing_since', 'id', 'org_id']);
  });

  it('lets only the worker role run the relay functions; the API role may run the tenant-scoped ones only', async () => {
    const { rows } = await owner.query<{ name: string; app: boolean; worker: boolean }>(
      `select p.proname as name,
              has_function_privilege('rm_app', p.oid, 'execute') as app,
              has_function_privilege('rm_worker', p.oid, 'execute') as worker
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.proname like 'rm\\_%' order by 1`,
    );
    const byRole = (pick: (r: { app: boolean; worker: boolean }) => boolean) =>
      rows.filter(pick).map((r) => r.name);
    expect(byRole((r) => r.worker && !r.app)).toEqual([...SECURITY_DEFINER_FUNCTIONS].sort());
    // Everything else is the tenant-scoped work both run (the worker role inherits rm_app).
    expect(byRole((r) => !r.worker)).toEqual([]);
    // PUBLIC may execute nothing of ours.
    const open = await owner.query<{ name: string }>(
      `select p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.proname like 'rm\\_%'
          and exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                       where a.grantee = 0 and a.privilege_type = 'EXECUTE')`,
    );
    expect(open.rows).toEqual([]);
    await expect(app.query('select * from rm_relay_claim(10)')).rejects.toThrow(
      /permission denied/,
    );
  });

  it('sees nothing without a tenant (fail closed)', async () => {
    const { rows } = await app.query('select count(*)::int as n from memberships');
    expect(rows[0].n).toBe(0);
    const orgs = await app.query('select count(*)::int as n from orgs');
    expect(orgs.rows[0].n).toBe(0);
  });

  it('in org A’s context sees only org A and cannot write into org B', async () => {
    await app.query('begin');
    try {
      await app.query(`select set_config('app.org_id', $1, true)`, [orgA]);
      const { rows } = await app.query<{ org_id: string }>('select org_id from memberships');
      expect(rows).toHaveLength(2);
      expect(new Set(rows.map((r) => r.org_id))).toEqual(new Set([orgA]));
      const b = await app.query('select count(*)::int as n from memberships where org_id = $1', [
        orgB,
      ]);
      expect(b.rows[0].n).toBe(0);
      await expect(
        app.query(
          `insert into memberships (org_id, user_id, display_name, role)
           values ($1, $2, 'Intruder', 'resident')`,
          [orgB, (await owner.query('select id from users limit 1')).rows[0].id],
        ),
      ).rejects.toThrow(/row-level security/);
    } finally {
      await app.query('rollback');
    }
  });

  it('does not leak the setting to the next transaction on the same pooled connection', async () => {
    const pool = new Pool({
      connectionString: urlFor(t.database, { name: 'rm_app', password: 'rm_app' }),
      max: 1,
    });
    try {
      const c = await pool.connect();
      await c.query('begin');
      await c.query(`select set_config('app.org_id', $1, true)`, [orgA]);
      expect((await c.query('select count(*)::int as n from memberships')).rows[0].n).toBe(2);
      await c.query('commit');
      c.release();
      const again = await pool.connect();
      const { rows } = await again.query(
        `select coalesce(current_setting('app.org_id', true), '') as org, (select count(*)::int from memberships) as n`,
      );
      again.release();
      expect(rows[0]).toEqual({ org: '', n: 0 });
    } finally {
      await pool.end();
    }
  });

  it('refuses to start an API whose role could run the relay, and a worker whose role cannot', async () => {
    const asWorker = testConfig(t.database, {
      DATABASE_APP_URL: urlFor(t.database, { name: 'rm_worker', password: 'rm_worker' }),
    });
    await expect(bootAndClose(asWorker)).rejects.toThrow(
      /role "rm_worker" may run the outbox relay, which only the worker needs/,
    );
    const asApp = testConfig(t.database, {
      DATABASE_WORKER_URL: urlFor(t.database, { name: 'rm_app', password: 'rm_app' }),
    });
    await expect(bootAndClose(asApp, { worker: true })).rejects.toThrow(
      /role "rm_app" may not run the outbox relay/,
    );
  });

  it('refuses to start when the runtime role could bypass the wall', async () => {
    const config = testConfig(t.database, { DATABASE_APP_URL: urlFor(t.database) });
    await expect(bootAndClose(config)).rejects.toThrow(
      /Refusing to start: the runtime database role "postgres" is a superuser/,
    );
  });
});

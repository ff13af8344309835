import { randomUUID } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { ormOptions } from '../../src/platform/database/orm-options';
import { dropDatabase } from '../../src/platform/database/bootstrap';
import { bearer, createTestDatabase, startTestApp, type TestApp } from '../support/test-app';
import { OWNER_URL, urlFor } from '../support/env';
import { changedTables, snapshotDatabase } from '../support/db-snapshot';
import { API, pair, sent } from '../support/factories';

/** Tables without org_id: Citus reference tables (copied to every node), not distributed. */
const REFERENCE_TABLES = ['mikro_orm_migrations', 'orgs', 'users'];

/**
 * What keeps a tenant table from being distributed by org_id (Citus): a table without org_id
 * that is not a reference table, a primary key or unique index that does not lead with org_id,
 * and a foreign key between tenant tables that does not pair org_id with org_id first.
 */
const VIOLATIONS = `
  with tenant as (
    select c.oid, c.relname from pg_class c
     where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
       and exists (select 1 from pg_attribute a
                    where a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped)
  )
  select c.relname || ': no org_id column and not a reference table' as problem
    from pg_class c
   where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
     and c.oid not in (select oid from tenant) and not (c.relname = any($1::text[]))
  union all
  select t.relname || ': no primary key' from tenant t
   where not exists (select 1 from pg_index i where i.indrelid = t.oid and i.indisprimary)
  union all
  select t.relname || ': ' || case when i.indisprimary then 'primary key ' else 'unique index ' end
         || ix.relname || ' does not lead with org_id'
    from tenant t
    join pg_index i on i.indrelid = t.oid and i.indisunique
    join pg_class ix on ix.oid = i.indexrelid
   where i.indkey[0] = 0
      or (select a.attname from pg_attribute a
           where a.attrelid = t.oid and a.attnum = i.indkey[0]) <> 'org_id'
  union all
  select t.relname || ': foreign key ' || k.conname || ' to ' || k.confrelid::regclass
         || ' does not pair org_id with org_id first'
    from tenant t
    join pg_constraint k on k.conrelid = t.oid and k.contype = 'f'
   where k.confrelid in (select oid from tenant)
     and ((select a.attname from pg_attribute a
            where a.attrelid = k.conrelid and a.attnum = k.conkey[1]) is distinct from 'org_id'
       or (select a.attname from pg_attribute a
            where a.attrelid = k.confrelid and a.attnum = k.confkey[1]) is distinct from 'org_id')
  order by 1`;

async function violations(db: Client): Promise<string[]> {
  const { rows } = await db.query<{ problem: string }>(VIOLATIONS, [REFERENCE_TABLES]);
  return rows.map((r) => r.problem);
}

/** [columns of the primary key] of a table, in key order. */
async function primaryKey(db: Client, table: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `select a.attname as name
       from pg_index i, unnest(i.indkey) with ordinality k(attnum, pos), pg_attribute a
      where i.indrelid = $1::regclass and i.indisprimary
        and a.attrelid = i.indrelid and a.attnum = k.attnum
      order by k.pos`,
    [table],
  );
  return rows.map((r) => r.name);
}

describe('keys a distributed PostgreSQL can shard by org (catalog check)', () => {
  let database: string;
  let db: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: urlFor(database) });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
    await dropDatabase(OWNER_URL, database);
  });

  it('has org_id leading every primary key, unique index and foreign key of every tenant table', async () => {
    const { rows } = await db.query<{ n: number }>(
      `select count(*)::int as n from pg_constraint
        where connamespace = 'public'::regnamespace and contype = 'f'`,
    );
    expect(rows[0].n).toBeGreaterThan(10);
    expect(await violations(db)).toEqual([]);
  });

  it('names each kind of violation (the check can fail)', async () => {
    await db.query('begin');
    try {
      await db.query(`create table keyless_audit (id uuid primary key, note text)`);
      await db.query(
        `create table stray (org_id uuid not null, id uuid primary key,
                             thread_id uuid not null)`,
      );
      // message_threads has no unique key on id alone: give the foreign key one to point at.
      await db.query(`create unique index stray_thread_key on message_threads (id)`);
      await db.query(
        `alter table stray add constraint stray_thread_fkey foreign key (thread_id) references message_threads (id)`,
      );
      expect(await violations(db)).toEqual([
        'keyless_audit: no org_id column and not a reference table',
        'message_threads: unique index stray_thread_key does not lead with org_id',
        'stray: foreign key stray_thread_fkey to message_threads does not pair org_id with org_id first',
        'stray: primary key stray_pkey does not lead with org_id',
      ]);
    } finally {
      await db.query('rollback');
    }
  });
});

describe('the distribution keys migration', () => {
  const MIGRATION = 'Migration20261206220000_distribution_keys';
  let t: TestApp;
  let owner: Client;

  beforeAll(async () => {
    t = await startTestApp();
    owner = new Client({ connectionString: urlFor(t.database) });
    await owner.connect();
  });
  afterAll(async () => {
    await owner.end();
    await t.close();
  });

  /** Rows in every tenant table: messages, reads and events through the API, the rest by SQL. */
  async function seed(): Promise<void> {
    const org = t.createOrg();
    const { alice: ann, bob, threadId: thread } = await pair(t, org);
    for (let i = 0; i < 3; i++) await sent(t, ann, thread, `hello ${i}`);
    const read = await t
      .http()
      .post(`${API}/messages/threads/${thread}/read`)
      .set(bearer(bob))
      .send({});
    expect(read.status).toBe(200);
    const endpoint = randomUUID();
    const delivery = randomUUID();
    const { rows } = await owner.query<{ id: string }>(
      `select id from outbox_events where org_id = $1 order by created_at limit 1`,
      [org],
    );
    const event = rows[0].id;
    const statements: [string, unknown[]][] = [
      [
        `insert into webhook_endpoints (id, org_id, url, events, secret_ciphertext, created_by)
           values ($1, $2, 'https://hooks.example.com/x', '{message.created}', 'x', $3)`,
        [endpoint, org, ann.userId],
      ],
      [
        `insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
           values ($1, $2, 'webhooks', now())`,
        [event, org],
      ],
      [
        `insert into webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, webhook_id, payload)
           values ($1, $2, $3, $4, 'message.created', $5, '{}')`,
        [delivery, org, endpoint, event, `msg_${delivery}`],
      ],
      [
        `insert into webhook_attempts (org_id, delivery_id, attempt, started_at, duration_ms, status_code)
           values ($1, $2, 1, now(), 12, 500)`,
        [org, delivery],
      ],
      [
        `insert into notifications (org_id, user_id, type, thread_id, actor_id)
           values ($1, $2, 'thread.started', $3, $4)`,
        [org, bob.userId, thread, ann.userId],
      ],
      [
        `insert into notifications (org_id, user_id, type, endpoint_id)
           values ($1, $2, 'webhook.disabled', $3)`,
        [org, ann.userId, endpoint],
      ],
    ];
    for (const [sql, params] of statements) await owner.query(sql, params);
  }

  /** Down to `to`, inclusive (every later migration first), or up to the latest. */
  async function migrate(direction: 'up' | 'down', to?: string): Promise<void> {
    const orm = await MikroORM.init(ormOptions({ url: urlFor(t.database), poolMax: 2 }));
    try {
      const migrator = orm.getMigrator();
      await (direction === 'down' ? migrator.down({ to }) : migrator.up());
    } finally {
      await orm.close(true);
    }
  }

  const withoutBookkeeping = (s: Record<string, string>) => {
    const { mikro_orm_migrations: _, ...rest } = s;
    return rest;
  };

  it('carries every row down to the old keys and back up to the new ones', async () => {
    await seed();
    await seed();
    const before = withoutBookkeeping(await snapshotDatabase(owner));
    for (const table of ['messages', 'message_reads', 'webhook_attempts', 'notifications'])
      expect(before[table]).not.toMatch(/^0:/);
    expect(await primaryKey(owner, 'messages')).toEqual(['org_id', 'id']);

    await migrate('down', MIGRATION);
    expect(await primaryKey(owner, 'messages')).toEqual(['id']);
    expect(await primaryKey(owner, 'thread_participants')).toEqual(['thread_id', 'user_id']);
    expect(changedTables(before, withoutBookkeeping(await snapshotDatabase(owner)))).toEqual([]);

    await migrate('up');
    expect(await primaryKey(owner, 'messages')).toEqual(['org_id', 'id']);
    expect(await primaryKey(owner, 'thread_participants')).toEqual([
      'org_id',
      'thread_id',
      'user_id',
    ]);
    expect(changedTables(before, withoutBookkeeping(await snapshotDatabase(owner)))).toEqual([]);
    expect(await violations(owner)).toEqual([]);

    // The service goes on with the same rows.
    await seed();
  });
});

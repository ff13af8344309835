import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { startTestApp, bearer, type TestApp, UNTHROTTLED } from '../support/test-app';
import { drainOutbox, ownerClient } from '../support/async';

/**
 * The consumer rows have no foreign key to their event (issue 17): pruning deletes them with it,
 * sweeps a pending row left without its event, and no writer gives a vanished event a row.
 */
describe('outbox pruning without a foreign key on the consumer rows', () => {
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    t = await startTestApp({ ...UNTHROTTLED, WORKER_ENABLED: 'true' });
    db = await ownerClient(t.database);
  });
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  const consumersOf = async (events: string[]) =>
    (
      await db.query<{ n: number }>(
        'select count(*)::int as n from event_consumers where event_id = any($1::uuid[])',
        [events],
      )
    ).rows[0].n;
  const eventsOf = async (thread: string) =>
    (
      await db.query<{ id: string }>('select id from outbox_events where thread_id = $1', [thread])
    ).rows.map((r) => r.id);

  it('deletes finished events older than the age with their consumer rows, and keeps the rest', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const start = async (body: string) => {
      const res = await t
        .http()
        .post('/api/v1/messages/threads')
        .set(bearer(alice))
        .send({ recipientId: bob.userId, body });
      expect(res.status).toBe(201);
      return res.body.thread.id as string;
    };
    const old = await start('old');
    const carol = await t.createMember(org);
    const recentRes = await t
      .http()
      .post('/api/v1/messages/threads')
      .set(bearer(alice))
      .send({ recipientId: carol.userId, body: 'recent' });
    const recent = recentRes.body.thread.id as string;
    await drainOutbox(db);
    const oldEvents = await eventsOf(old);
    const recentEvents = await eventsOf(recent);
    expect(oldEvents.length).toBeGreaterThan(0);
    expect(await consumersOf(oldEvents)).toBeGreaterThan(0);
    await db.query(
      `update outbox_events set created_at = now() - interval '2 hours' where thread_id = $1`,
      [old],
    );

    const { rows } = await db.query<{ pruned: number }>(
      `select rm_relay_prune('1 hour'::interval) as pruned`,
    );
    expect(rows[0].pruned).toBeGreaterThanOrEqual(oldEvents.length);
    expect(await eventsOf(old)).toEqual([]);
    expect(await consumersOf(oldEvents)).toBe(0);
    expect((await eventsOf(recent)).sort()).toEqual(recentEvents.sort());
    expect(await consumersOf(recentEvents)).toBeGreaterThan(0);
  });

  it('sweeps a pending consumer row without its event once older than the age, not before', async () => {
    const org = t.createOrg();
    await t.createMember(org);
    const [stale, fresh] = [randomUUID(), randomUUID()];
    await db.query(
      `insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
       values ($1, $3, 'notifications', now() - interval '2 hours'),
              ($2, $3, 'notifications', now() - interval '5 minutes')`,
      [stale, fresh, org],
    );
    await db.query(`select rm_relay_prune('1 hour'::interval)`);
    expect(await consumersOf([stale])).toBe(0);
    expect(await consumersOf([fresh])).toBe(1);
    await db.query('delete from event_consumers where event_id = $1', [fresh]);
  });

  it('writes no consumer row for an event that is gone (a failure recorded late)', async () => {
    const org = t.createOrg();
    await t.createMember(org);
    const gone = randomUUID();
    await db.query('begin');
    try {
      await db.query('set local role rm_app');
      await db.query(`select set_config('app.org_id', $1, true)`, [org]);
      await db.query(
        `select rm_record_consumer_failure($1, 'notifications', 'boom', '1 minute'::interval, false)`,
        [gone],
      );
    } finally {
      await db.query('commit');
    }
    expect(await consumersOf([gone])).toBe(0);
  });
});

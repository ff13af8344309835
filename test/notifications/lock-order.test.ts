import type { Job } from 'bullmq';
import type { Client } from 'pg';
import { Db } from '../../src/platform/tenancy/db.service';
import { OutboxMetrics } from '../../src/platform/queues/outbox-metrics';
import { Metrics } from '../../src/platform/metrics/metrics';
import { PgPool } from '../../src/platform/database/pg-pool';
import { ConsumerJobRunner } from '../../src/platform/queues/consumer-job';
import { OutboxSignals } from '../../src/platform/queues/outbox-signals';
import { TenantRunner } from '../../src/platform/tenancy/tenant-runner.service';
import { CreateNotificationsProcessor } from '../../src/notifications/jobs/create-notifications.processor';
import { NotificationsService } from '../../src/notifications/notifications.service';
import { startTestApp, type TestApp } from '../support/test-app';
import { ownerClient, pause } from '../support/async';
import { newThread, send, sent } from '../support/factories';

/**
 * A notification batch locks the recipients' participant rows; a send locks the sender's and the
 * recipient's. Locked in different orders they deadlock (found by an audit: two participants
 * sending at once got a 500 now and then). Here the interleaving that used to deadlock is forced,
 * with PostgreSQL's deadlock detection slowed to 10 s so that a cycle shows as a hang instead of
 * being broken (and retried) behind the scenes.
 */
describe('a send and a notification batch on the same thread', () => {
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    t = await startTestApp({ WORKER_ENABLED: 'false' });
    db = await ownerClient(t.database);
    await db.query(`alter database ${t.database} set deadlock_timeout = '10s'`);
    // The app's pooled connections reconnect with the new setting.
    await db.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()`,
    );
  });
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  const processor = () =>
    new CreateNotificationsProcessor(
      new ConsumerJobRunner(
        t.app.get(TenantRunner),
        t.app.get(Db),
        new OutboxMetrics(t.app.get(Metrics), t.app.get(PgPool)),
      ),
      t.app.get(NotificationsService),
      t.app.get(OutboxSignals),
    );
  const jobOf = (id: string, orgId: string, eventIds: string[]) =>
    ({
      id,
      name: 'create-notifications',
      data: { orgId, eventIds },
      opts: { attempts: 1 },
      attemptsMade: 0,
    }) as unknown as Job;

  it('never wait on each other in a cycle', async () => {
    const org = t.createOrg();
    // Both orders of the two user ids (the racing sender's first, then last).
    for (let round = 0; round < 2; round++) {
      const [x, y] = [await t.createMember(org), await t.createMember(org)];
      const [a, b] = x.userId < y.userId === (round === 0) ? [x, y] : [y, x];
      // The first request after the reconnect may meet a terminated connection: warm up.
      await t
        .http()
        .get('/api/v1/me')
        .set({ authorization: `Bearer ${a.token}` });
      const threadId = (await newThread(t, a, b)).thread.id;
      const toB = await sent(t, a, threadId, 'to b');
      const toA = await sent(t, b, threadId, 'to a');
      const { rows } = await db.query<{ id: string }>(
        `select id from outbox_events
          where type = 'message.created' and message_id = any($1) order by created_at`,
        [[toB.id, toA.id]],
      );
      const eventIds = rows.map((r) => r.id);

      // The batch works on "to b" (B's row), then — while a sends again — on "to a" (a's row).
      // The batch is one statement: it is held between its two events by a lock on the second
      // event's consumer row, taken here, and released once the racing send is waiting.
      await db.query(
        `insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
         select id, org_id, 'notifications', now() from outbox_events where id = any($1)
         on conflict do nothing`,
        [eventIds],
      );
      const holder = await ownerClient(t.database);
      await holder.query('begin');
      await holder.query(
        `select 1 from event_consumers where event_id = $1 and consumer = 'notifications'
            for no key update`,
        [eventIds[1]],
      );
      const batch = processor().process(jobOf(`lock-order-${round}`, org, eventIds));
      await pause(300);
      // .then() starts the request now (supertest sends on then/end).
      const racing = send(t, a, threadId, 'racing').then((res) => res);
      await pause(300);
      await holder.query('commit');
      await holder.end();

      const hang = pause(5000).then(() => 'hung');
      await expect(Promise.race([batch, hang])).resolves.toBe(2);
      const response = await Promise.race([racing, hang]);
      expect(response).toMatchObject({ status: 201 });

      const { rows: notified } = await db.query<{ user_id: string; count: number }>(
        `select user_id, count from notifications where thread_id = $1 and type = 'message.received'
          order by user_id`,
        [threadId],
      );
      // B read "to b" by replying; "to a" is the only message anybody is notified of.
      expect(notified.map((n) => [n.user_id, n.count])).toEqual([[a.userId, 1]]);
    }
  });

  it('waits for the relay’s commit before it locks the thread, so sends on it do not wait', async () => {
    // The relay adds a batch's job to Redis before it commits the events' consumer rows; the job
    // may start first. Here the relay's transaction is held open on the event.
    const org = t.createOrg();
    const [a, b] = [await t.createMember(org), await t.createMember(org)];
    const threadId = (await newThread(t, a, b)).thread.id;
    const first = await sent(t, a, threadId, 'first');
    const { rows } = await db.query<{ id: string }>(
      `select id from outbox_events where type = 'message.created' and message_id = $1`,
      [first.id],
    );
    const eventId = rows[0].id;
    const relay = await ownerClient(t.database);
    try {
      await relay.query('begin');
      await relay.query(`select 1 from outbox_events where id = $1 for update`, [eventId]);
      await relay.query(
        `insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
         values ($1, $2, 'notifications', now())`,
        [eventId, org],
      );
      const batch = processor().process(jobOf('before-the-relay-commits', org, [eventId]));
      await pause(300);
      // The batch waits for the relay. A send on the thread meanwhile is answered at once.
      const started = Date.now();
      const racing = await Promise.race([
        send(t, a, threadId, 'meanwhile').then((res) => res),
        pause(3000).then(() => 'waited'),
      ]);
      expect(racing).toMatchObject({ status: 201 });
      expect(Date.now() - started).toBeLessThan(3000);
      await relay.query('commit');
      await expect(batch).resolves.toBe(1);
    } finally {
      await relay.query('rollback').catch(() => undefined);
      await relay.end();
    }
    // B is notified of the first message (the one sent meanwhile is not in this batch).
    const { rows: notified } = await db.query<{ user_id: string; count: number }>(
      `select user_id, count from notifications where thread_id = $1 and type = 'message.received'`,
      [threadId],
    );
    expect(notified.map((n) => [n.user_id, n.count])).toEqual([[b.userId, 1]]);
  });
});

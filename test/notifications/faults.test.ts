import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Client } from 'pg';
import { OutboxRelay } from '../../src/platform/queues/outbox-relay.service';
import { bullConnection } from '../../src/platform/queues/redis-connection';
import { startTestApp, bearer, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  drainOutbox,
  eventually,
  kill,
  ownerClient,
  OwnRedis,
  spawnWorker,
} from '../support/async';

const startThread = async (
  t: TestApp,
  from: Member,
  to: Member,
  body?: string,
): Promise<string> => {
  const res = await t
    .http()
    .post('/api/v1/messages/threads')
    .set(bearer(from))
    .send({ recipientId: to.userId, ...(body ? { body } : {}) });
  if (res.status !== 201) throw new Error(`start: ${res.status}`);
  return res.body.thread.id as string;
};

const countNotifications = async (db: Client, userId: string, type: string) =>
  (
    await db.query<{ n: number; total: number }>(
      `select count(*)::int as n, coalesce(sum(count), 0)::int as total from notifications where user_id = $1 and type = $2`,
      [userId, type],
    )
  ).rows[0];

describe('notifications survive Redis going down', () => {
  let redis: OwnRedis;
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    redis = await OwnRedis.start();
    t = await startTestApp({
      ...UNTHROTTLED,
      WORKER_ENABLED: 'true',
      REDIS_URL: redis.url,
    });
    db = await ownerClient(t.database);
  });
  afterAll(async () => {
    await db.end();
    await t.close();
    await redis.stop();
  });

  it('accepts 100 sends in 100 threads with Redis stopped, then delivers all 100 notifications once', async () => {
    const org = t.createOrg();
    const sender = await t.createMember(org);
    const recipients = await Promise.all(Array.from({ length: 100 }, () => t.createMember(org)));
    const threads: string[] = [];
    for (const r of recipients) threads.push(await startThread(t, sender, r));
    await drainOutbox(db);

    await redis.stop();
    const latencies: number[] = [];
    for (const thread of threads) {
      const started = Date.now();
      const res = await t
        .http()
        .post(`/api/v1/messages/threads/${thread}/messages`)
        .set(bearer(sender))
        .send({ body: 'while Redis is down' });
      latencies.push(Date.now() - started);
      expect(res.status).toBe(201);
    }
    latencies.sort((a, b) => a - b);
    expect(latencies[Math.floor(latencies.length * 0.95)]).toBeLessThan(250);
    const pending = await db.query<{ n: number }>(
      `select count(*)::int as n from outbox_events where published_at is null`,
    );
    expect(pending.rows[0].n).toBe(100);
    // The operators' dashboard says so at once rather than hanging on Redis.
    const dashboard = await t
      .http()
      .get('/admin/queues/api/queues')
      .auth(t.config.operator.user, t.config.operator.password)
      .timeout(5000);
    expect(dashboard.status).toBe(503);
    expect(dashboard.body.type).toMatch(/\/service-unavailable$/);

    await redis.start();
    await drainOutbox(db, 30_000);
    for (const r of recipients) {
      expect(await countNotifications(db, r.userId, 'message.received')).toEqual({
        n: 1,
        total: 1,
      });
    }
  });
});

describe('notifications survive a worker killed mid-job', () => {
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    // The API in-process without a worker; workers are separate processes the test spawns.
    t = await startTestApp({
      WORKER_ENABLED: 'false',
      JOB_LOCK_MS: '1500',
      JOB_STALLED_INTERVAL_MS: '500',
    });
    db = await ownerClient(t.database);
  });
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  it('retries the job after the worker dies and creates the notification exactly once', async () => {
    const org = t.createOrg();
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    const thread = await startThread(t, a, b);
    const first = await spawnWorker(t.env);
    try {
      await drainOutbox(db);
    } finally {
      await kill(first);
    }

    // An uncommitted open notification for (b, thread, a) makes the next job's upsert wait
    // inside its transaction: the job is mid-flight when the worker is killed.
    const blocker = await ownerClient(t.database);
    await blocker.query('begin');
    await blocker.query(
      `insert into notifications (org_id, user_id, type, thread_id, actor_id) values ($1, $2, 'message.received', $3, $4)`,
      [org, b.userId, thread, a.userId],
    );

    const worker = await spawnWorker(t.env);
    const queue = new Queue('notifications', {
      connection: bullConnection(t.config.redis.url, 'worker'),
      prefix: t.config.redis.queuePrefix,
    });
    try {
      await t
        .http()
        .post(`/api/v1/messages/threads/${thread}/messages`)
        .set(bearer(a))
        .send({ body: 'mid-job' })
        .expect(201);
      await eventually(
        async () => (await queue.getActiveCount()) === 1,
        10_000,
        'the job to be active',
      );
      await kill(worker, 'SIGKILL');
      await blocker.query('rollback');

      const replacement = await spawnWorker(t.env);
      try {
        await drainOutbox(db, 30_000);
      } finally {
        await kill(replacement, 'SIGTERM');
      }
      expect(await countNotifications(db, b.userId, 'message.received')).toEqual({
        n: 1,
        total: 1,
      });
    } finally {
      await blocker.end().catch(() => undefined);
      await queue.close();
      await kill(worker);
    }
  });
});

describe('the relay crashing between adding jobs and marking events published', () => {
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    t = await startTestApp({ WORKER_ENABLED: 'true' });
    db = await ownerClient(t.database);
  });
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  it('republishes the events without duplicating notifications', async () => {
    const relay = t.app.get(OutboxRelay);
    await relay.stop();
    const org = t.createOrg();
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    const thread = await startThread(t, a, b);
    for (let i = 0; i < 3; i++) {
      await t
        .http()
        .post(`/api/v1/messages/threads/${thread}/messages`)
        .set(bearer(a))
        .send({ body: `m${i}` })
        .expect(201);
    }
    await expect(
      relay.relayOnce(() => Promise.reject(new Error('relay crashed before commit'))),
    ).rejects.toThrow('relay crashed before commit');
    const unpublished = await db.query<{ n: number }>(
      `select count(*)::int as n from outbox_events where published_at is null`,
    );
    expect(unpublished.rows[0].n).toBe(4);
    // The jobs reached Redis before the crash: they run once the relay's transaction is gone.
    await eventually(
      async () =>
        (
          await db.query(
            `select count(*)::int as n from event_consumers where consumer = 'notifications' and done_at is not null`,
          )
        ).rows[0].n === 4,
      10_000,
      'the jobs added before the crash to run',
    );

    relay.start();
    await drainOutbox(db);
    expect(await countNotifications(db, b.userId, 'thread.started')).toEqual({ n: 1, total: 1 });
    expect(await countNotifications(db, b.userId, 'message.received')).toEqual({ n: 1, total: 3 });
  });
});

describe('poison jobs', () => {
  let t: TestApp;
  let db: Client;
  let queue: Queue;

  beforeAll(async () => {
    t = await startTestApp({ WORKER_ENABLED: 'true', JOB_BACKOFF_MS: '20' });
    db = await ownerClient(t.database);
    queue = new Queue('notifications', {
      connection: bullConnection(t.config.redis.url, 'worker'),
      prefix: t.config.redis.queuePrefix,
    });
  });
  afterAll(async () => {
    await queue.close();
    await db.end();
    await t.close();
  });

  it('fails a malformed job at once, into the failed set, while other jobs go on', async () => {
    const job = await queue.add(
      'create-notifications',
      { orgId: 'not-a-uuid', eventIds: [randomUUID()] },
      { jobId: `poison-${randomUUID()}` },
    );
    const org = t.createOrg();
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    await startThread(t, a, b);
    await drainOutbox(db);
    expect(await countNotifications(db, b.userId, 'thread.started')).toEqual({ n: 1, total: 1 });
    const failed = await eventually(
      async () => {
        const state = await queue.getJobState(job.id!);
        return state === 'failed' ? await queue.getJob(job.id!) : undefined;
      },
      10_000,
      'the poison job to fail',
    );
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/Malformed payload/);
  });

  it('marks an event whose processing keeps failing dead after its attempts, and does not loop on it', async () => {
    const org = t.createOrg();
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    const thread = await startThread(t, a, b);
    await drainOutbox(db);
    // An event the notifications function cannot process (a recipient id that is not a uuid).
    const eventId = randomUUID();
    await db.query(
      `insert into outbox_events (id, org_id, type, thread_id, actor_id, data) values ($1, $2, 'thread.created', $3, $4, '{"recipientId":"x"}')`,
      [eventId, org, thread, a.userId],
    );
    const consumer = await eventually(
      async () => {
        const { rows } = await db.query(
          `select attempts, dead_at, last_error from event_consumers where event_id = $1 and consumer = 'notifications'`,
          [eventId],
        );
        return rows[0]?.dead_at ? rows[0] : undefined;
      },
      20_000,
      'the event to be marked dead',
    );
    expect(consumer.attempts).toBe(5);
    expect(consumer.last_error).toMatch(/uuid/i);
    const failed = await queue.getFailed();
    expect(failed.some((j) => (j.data as { eventIds: string[] }).eventIds.includes(eventId))).toBe(
      true,
    );
    // Other work goes on.
    await t
      .http()
      .post(`/api/v1/messages/threads/${thread}/messages`)
      .set(bearer(a))
      .send({ body: 'after the poison' })
      .expect(201);
    await drainOutbox(db);
    expect(await countNotifications(db, b.userId, 'message.received')).toEqual({ n: 1, total: 1 });
  });
});

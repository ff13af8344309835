import type { Client } from 'pg';
import { Fanout } from '../../src/events/fanout.service';
import { drainOutbox, eventually, ownerClient, OwnRedis } from '../support/async';
import { newThread, sent, type MessageJson } from '../support/factories';
import { listen, openStream, type SseClient } from '../support/sse';
import { startTestApp, type TestApp, UNTHROTTLED } from '../support/test-app';

/**
 * Redis killed while streams are open (SPEC §4a): the streams stay open, are fed from PostgreSQL
 * while it is away and catch up when it returns; after client-side dedupe by message id, every
 * message arrives once, none is missing.
 */
describe('event stream: Redis down', () => {
  let redis: OwnRedis;
  let t: TestApp;
  let db: Client;
  let base: string;
  const open: SseClient[] = [];

  beforeAll(async () => {
    redis = await OwnRedis.start();
    t = await startTestApp({
      ...UNTHROTTLED,
      WORKER_ENABLED: 'true',
      REDIS_URL: redis.url,
      EVENTS_FALLBACK_POLL_MS: '300',
      RATE_LIMIT_REDIS_TIMEOUT_MS: '200',
    });
    db = await ownerClient(t.database);
    base = await listen(t);
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await db.end();
    await t.close();
    await redis.stop();
  });

  const messageIds = (s: SseClient) =>
    s.named<{ message: MessageJson }>('message.created').map((c) => c.message.id);

  it('keeps streams open, feeds them from PostgreSQL while Redis is away and loses nothing', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread, message } = await newThread(t, alice, bob, 'before');
    await drainOutbox(db);
    const streams = [await openStream(base, bob), await openStream(base, bob)];
    open.push(...streams);
    for (const s of streams) await s.waitFor('unread.changed');
    await eventually(() => t.app.get(Fanout).isUp(), 5000, 'the fan-out to connect');
    const expected = [message!.id];

    const sendSome = async (prefix: string, n: number) => {
      for (let i = 0; i < n; i++)
        expected.push((await sent(t, alice, thread.id, `${prefix} ${i}`)).id);
    };
    await sendSome('live', 5);
    for (const s of streams) {
      await s.until((c) => messageIds(c).length >= 5, 5000, 'the live messages');
    }

    const health = async () =>
      (await t.http().get('/health/ready')).body.info.events as Record<string, unknown>;
    expect(await health()).toMatchObject({ streams: 2, fanout: 'up' });

    await redis.stop();
    await eventually(() => !t.app.get(Fanout).isUp(), 5000, 'the fan-out to notice');
    // Operators see it; the API stays ready (streams are fed from PostgreSQL).
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.events).toEqual({
      status: 'up',
      streams: 2,
      fanout: 'down',
      slowStreamsDropped: 0,
      required: false,
    });
    await sendSome('while down', 20);
    // Fed from PostgreSQL while Redis is away: the streams are still open and up to date.
    for (const s of streams) {
      await s.until((c) => messageIds(c).length >= 25, 15_000, 'the messages sent while down');
      expect(s.ended).toBe(false);
    }

    await redis.start();
    await eventually(() => t.app.get(Fanout).isUp(), 15_000, 'the fan-out to reconnect');
    await sendSome('after', 5);
    for (const s of streams) {
      await s.until((c) => messageIds(c).length >= 30, 15_000, 'the messages sent after');
      expect(s.ended).toBe(false);
      // Nothing missing, nothing twice, in order.
      expect(messageIds(s)).toEqual(expected.slice(1));
      const seqs = s.events.map((e) => Number(e.id!.split('.')[1]));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    // The notifications that waited for Redis were made once each.
    await drainOutbox(db, 30_000);
    const { rows } = await db.query<{ type: string; total: number }>(
      `select type, sum(count)::int as total from notifications where user_id = $1
        group by type order by type`,
      [bob.userId],
    );
    expect(rows).toEqual([
      { type: 'message.received', total: 30 },
      { type: 'thread.started', total: 1 },
    ]);
  }, 90_000);
});

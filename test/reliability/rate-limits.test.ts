import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Metrics } from '../../src/platform/metrics/metrics';
import { LocalLimits } from '../../src/platform/ratelimit/local-limits';
import { OwnRedis, eventually, pause } from '../support/async';
import { expectProblem, type Res } from '../support/factories';
import { gaugeOf } from '../support/metrics';
import { bearer, startTestApp, UNTHROTTLED, type Member, type TestApp } from '../support/test-app';

/**
 * The per-user limits are decided in the API process and synced with Redis in the background
 * (issue 17, item 4; docs/scaling.md "Rate limits"). One process on a Redis of the test's own
 * (which the test pauses and stops): the limit is exact, a request never waits for Redis, Redis
 * sees one call per sync rather than one per request, and a Redis that is gone fails open and
 * comes back by itself. Two processes: test/reliability/two-instances.test.ts.
 */

const READS_PER_SECOND = 10;

describe('per-user limits decided in the process, synced with Redis', () => {
  let redis: OwnRedis | undefined;
  let admin: Redis | undefined;
  let t: TestApp | undefined;
  let org: string;

  beforeAll(async () => {
    redis = await OwnRedis.start();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    admin.on('error', () => undefined);
    t = await startTestApp({
      ...UNTHROTTLED,
      REDIS_URL: redis.url,
      RATE_LIMIT_READS_PER_SECOND: String(READS_PER_SECOND),
      // Long enough that a Redis paused for two seconds is waited out by the background sync (so
      // its counts land once it is back); short Redis timeouts are the fail-open test's.
      RATE_LIMIT_REDIS_TIMEOUT_MS: '5000',
    });
    org = t.createOrg();
  }, 60_000);

  afterAll(async () => {
    redis?.resume();
    await t?.close().catch(() => undefined);
    admin?.disconnect();
    await redis?.stop();
  }, 30_000);

  const unread = (m: Member) => t!.http().get('/api/v1/messages/unread-count').set(bearer(m));
  /** Waits for the start of a one-second window, so that a short burst falls inside one. */
  const windowStart = async () => {
    const into = Date.now() % 1000;
    if (into > 20) await pause(1000 - into + 5);
    return Math.floor(Date.now() / 1000);
  };
  /** The member's reads counted in Redis, over every window. */
  const countedInRedis = async (m: Member) => {
    const keys = await admin!.keys(`${t!.config.redis.queuePrefix}:rl:reads:${org}:${m.userId}:*`);
    const values = keys.length ? await admin!.mget(...keys) : [];
    return values.reduce((sum, v) => sum + Number(v ?? 0), 0);
  };
  const gauge = (name: string) => gaugeOf(t!, name);
  const scriptCalls = async () => {
    const info = await admin!.info('commandstats');
    return [...info.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
  };

  it('admits exactly the limit in a window from one process, then 429 with Retry-After', async () => {
    // A burst is answered well within a second on this machine; should one straddle two windows
    // (a loaded machine), it is tried again with a fresh member.
    let burst: { answers: Res[]; window: number; member: Member } | undefined;
    for (let attempt = 0; attempt < 3 && !burst; attempt++) {
      const member = await t!.createMember(org);
      const window = await windowStart();
      const answers = await Promise.all(
        Array.from({ length: 3 * READS_PER_SECOND }, () => unread(member)),
      );
      if (Math.floor(Date.now() / 1000) === window) burst = { answers, window, member };
    }
    expect(burst).toBeDefined();
    const statuses = burst!.answers.map((r) => r.status);
    expect({
      admitted: statuses.filter((s) => s === 200).length,
      refused: statuses.filter((s) => s === 429).length,
    }).toEqual({ admitted: READS_PER_SECOND, refused: 2 * READS_PER_SECOND });
    for (const res of burst!.answers.filter((r) => r.status === 429)) {
      expectProblem(res, 429, 'rate-limited');
      expect(res.headers['retry-after']).toBe('1');
    }
    // The counts reach Redis (for the other processes) by the next sync.
    await eventually(
      async () => (await countedInRedis(burst!.member)) === READS_PER_SECOND,
      5_000,
      'the burst counted in Redis',
    );
    // The next window admits again.
    await pause((burst!.window + 1) * 1000 - Date.now() + 10);
    expect((await unread(burst!.member)).status).toBe(200);
  });

  it('asks Redis once per sync, not once per request', async () => {
    const members = await Promise.all(Array.from({ length: 10 }, () => t!.createMember(org)));
    await windowStart();
    const before = await scriptCalls();
    const answers = await Promise.all(
      members.flatMap((m) => Array.from({ length: READS_PER_SECOND / 2 }, () => unread(m))),
    );
    expect(answers.every((r) => r.status === 200)).toBe(true);
    await eventually(
      async () => (await Promise.all(members.map(countedInRedis))).every((n) => n === 5),
      5_000,
      'every read counted in Redis',
    );
    const calls = (await scriptCalls()) - before;
    // 50 requests; the syncs (every 20 ms while requests come) and the heartbeat (every second)
    // took a fraction of that. One call per request before.
    expect({ calls, fewer: calls <= answers.length / 3 }).toEqual({ calls, fewer: true });
  });

  it('answers without waiting for Redis: paused for two seconds, requests are not slowed and are counted once it is back', async () => {
    const member = await t!.createMember(org);
    await windowStart();
    redis!.pause();
    const pausedAt = Date.now();
    let answers: Array<{ status: number; ms: number }>;
    try {
      answers = [];
      for (let i = 0; i < READS_PER_SECOND / 2; i++) {
        const start = Date.now();
        const res = await unread(member);
        answers.push({ status: res.status, ms: Date.now() - start });
      }
      // Redis has not answered since it was paused, so none of these waited for it.
      expect(Date.now() - pausedAt).toBeLessThan(2_000);
      await pause(2_000 - (Date.now() - pausedAt));
    } finally {
      redis!.resume();
    }
    expect(answers.map((a) => a.status)).toEqual(Array(READS_PER_SECOND / 2).fill(200));
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(1_000);
    await eventually(
      async () => (await countedInRedis(member)) === READS_PER_SECOND / 2,
      10_000,
      'the reads made while Redis was paused counted once it is back',
    );
  });

  it('learns of an API process that joined with its next sync, not a heartbeat (a second) later', async () => {
    // Two processes' limiters under a prefix of their own. The first counts itself alone, so its
    // shares are the whole limit; it must not go on so for a second once the second has joined.
    const config = {
      ...t!.config,
      redis: { ...t!.config.redis, queuePrefix: `rl-${randomUUID()}` },
    };
    const first = new LocalLimits(config, new Metrics('api', false));
    const second = new LocalLimits(config, new Metrics('api', false));
    try {
      await first.join();
      const joinedAt = Date.now();
      expect(first.processCount).toBe(1);
      await second.join();
      expect(second.processCount).toBe(2);
      // The first process's next heartbeat is a second after it joined; its next sync is 20 ms
      // after a request.
      expect(first.admit('writes:someone', 5, 1000)).toBe(0);
      await eventually(() => first.processCount === 2, 5_000, 'the first to count two processes');
      expect(Date.now() - joinedAt).toBeLessThan(1_000);
    } finally {
      await Promise.all([first.onModuleDestroy(), second.onModuleDestroy()]);
    }
  });

  it('fails open while Redis is down, without delay, and limits again once it is back', async () => {
    const member = await t!.createMember(org);
    await redis!.stop();
    try {
      // The first sync fails at once (connection refused): from then on every request passes.
      await unread(member);
      await eventually(
        async () => (await gauge('rate_limit_redis_up')) === 0,
        5_000,
        'the first sync to fail',
      );
      const start = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 3 * READS_PER_SECOND }, () => unread(member)),
      );
      expect({
        ms: Date.now() - start,
        statuses: [...new Set(answers.map((r) => r.status))],
      }).toEqual({ ms: expect.any(Number), statuses: [200] });
      expect(Date.now() - start).toBeLessThan(2_000);
      // The sync retried a second later (with these requests' counts) fails too; from then on
      // the process is idle. The operator sees it: the limits' syncs are down.
      await pause(1_500);
      expect(await gauge('rate_limit_redis_up')).toBe(0);
    } finally {
      await redis!.start();
    }
    // Back by itself, with no request: the heartbeat finds Redis again.
    await eventually(
      async () => (await gauge('rate_limit_redis_up')) === 1,
      15_000,
      'the limits to sync again once Redis is back',
    );
    // And it limits again: the connection returns (ioredis retries within 2 s), the breaker closes.
    await eventually(
      async () => {
        const answers = await Promise.all(
          Array.from({ length: 3 * READS_PER_SECOND }, () => unread(member)),
        );
        return answers.some((r) => r.status === 429);
      },
      15_000,
      'the limit to refuse again once Redis is back',
    );
    expect(await gauge('rate_limit_processes')).toBe(1);
  });
});

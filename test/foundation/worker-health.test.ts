import type { ChildProcess } from 'node:child_process';
import { startTestApp, type TestApp } from '../support/test-app';
import { eventually, kill, OwnRedis, spawnWorkerWithHealth } from '../support/async';

/** SPEC §2 Operators: "a worker is ready when both answer" (PostgreSQL and Redis). */
describe('the standalone worker’s health endpoints', () => {
  let redis: OwnRedis;
  let t: TestApp;
  let worker: ChildProcess;
  let base: string;

  beforeAll(async () => {
    redis = await OwnRedis.start();
    t = await startTestApp({ REDIS_URL: redis.url });
    ({ worker, base } = await spawnWorkerWithHealth(t.env));
  });
  afterAll(async () => {
    await kill(worker, 'SIGTERM');
    await t.close();
    await redis.stop();
  });

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
  };

  it('is live, and ready while PostgreSQL and Redis answer', async () => {
    await eventually(async () => (await get('/health/live').catch(() => null))?.status === 200);
    const ready = await get('/health/ready');
    expect(ready).toMatchObject({
      status: 200,
      body: { status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } },
    });
    // How far behind each stage is: a count and the age of its oldest item.
    const stages = ['relay', 'notifications', 'webhooks', 'events', 'deliveries'];
    const { backlog } = (ready.body as { info: { backlog: Record<string, unknown> } }).info;
    expect(Object.keys(backlog).sort()).toEqual([...stages].sort());
    for (const stage of stages) {
      expect(backlog[stage]).toEqual({
        pending: expect.any(Number),
        oldestAgeSeconds: expect.any(Number),
      });
    }
  });

  it('is not ready (503 problem details naming Redis) while Redis is down, and ready again after', async () => {
    await redis.stop();
    const down = await get('/health/ready');
    expect(down.status).toBe(503);
    expect(down.type).toMatch(/^application\/problem\+json/);
    expect(down.body).toMatchObject({
      type: expect.stringMatching(/\/service-unavailable$/),
      status: 503,
      detail: expect.stringContaining('Redis'),
      info: { database: { status: 'up' }, redis: { status: 'down' } },
    });
    expect((await get('/health/live')).status).toBe(200);
    await redis.start();
    await eventually(async () => (await get('/health/ready')).status === 200, 15_000, 'ready');
  });

  it('answers other paths with a 404 problem', async () => {
    const res = await get('/api/v1/me');
    expect(res).toMatchObject({ status: 404, body: { status: 404, title: 'Not found' } });
  });
});

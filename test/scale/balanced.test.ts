import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Client } from 'pg';
import request from 'supertest';
import {
  hasNginx,
  NGINX_CONF,
  NGINX_MISSING,
  startBalancer,
  type Balancer,
} from '../../bench/balancer';
import { loadConfig } from '../../src/config/app-config';
import { mintToken } from '../../src/platform/auth/tokens';
import { dropDatabase } from '../../src/platform/database/bootstrap';
import { eventually, freePort, ownerClient } from '../support/async';
import { OWNER_URL } from '../support/env';
import {
  spawnApi,
  spawnTrackedWorker,
  stopAllSpawned,
  type ApiProcess,
  type SpawnedProcess,
} from '../support/processes';
import { openStream, type SseClient } from '../support/sse';
import { createTestDatabase, deleteRedisKeys, testEnv, UNTHROTTLED } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * The scaled deployment (issue 20, part 3): two API processes and two workers behind nginx running
 * deploy/nginx/nginx.conf, the balancer of `docker compose --profile scaled` (only its upstream,
 * port and paths changed). Every request of the scenarios goes through the balancer; the API
 * processes are asked directly only which of them holds a stream, and both kinds of process for
 * their metrics.
 */

/** An event through the balancer within this long of the request that caused it: not buffered. */
const PROMPT_MS = 2_000;

interface User {
  userId: string;
  token: string;
}

describe('two API processes and two workers behind nginx (deploy/nginx/nginx.conf)', () => {
  let database: string | undefined;
  let env: Record<string, string>;
  let db: Client | undefined;
  const started: SpawnedProcess[] = [];
  let apis: ApiProcess[] = [];
  let workers: { process: SpawnedProcess; base: string }[] = [];
  let balancer: Balancer | undefined;
  let receiver: WebhookReceiver | undefined;
  const streams: SseClient[] = [];
  let secret: string;
  const metricsToken = randomBytes(24).toString('hex');
  const org = randomUUID();
  const users = {} as Record<'admin' | 'ann' | 'bob', User>;
  let threadId: string;

  beforeAll(async () => {
    if (!hasNginx()) throw new Error(NGINX_MISSING);
    database = await createTestDatabase();
    env = testEnv(database, {
      ...UNTHROTTLED,
      OUTBOX_POLL_MS: '20',
      METRICS_TOKEN: metricsToken,
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
      // The balancer, on the loopback interface, is the only proxy to believe.
      TRUST_PROXY: '127.0.0.1',
    });
    secret = loadConfig(env).auth.jwtSecret ?? '';
    db = await ownerClient(database);
    receiver = await new WebhookReceiver().start();
    // Started side by side, recorded as each becomes ready, so that afterAll stops what started.
    const track = async <T extends SpawnedProcess>(p: Promise<T>) => {
      const proc = await p;
      started.push(proc);
      return proc;
    };
    const worker = async (label: string) => {
      const port = await freePort();
      const process = await track(
        spawnTrackedWorker({ ...env, WORKER_HEALTH_PORT: String(port) }, label),
      );
      return { process, base: `http://127.0.0.1:${port}` };
    };
    const [api1, api2, worker1, worker2] = await Promise.all([
      track(spawnApi(env, 'api-1')),
      track(spawnApi(env, 'api-2')),
      worker('worker-1'),
      worker('worker-2'),
    ]);
    apis = [api1, api2];
    workers = [worker1, worker2];
    balancer = await startBalancer(apis.map((a) => `127.0.0.1:${a.port}`));
  }, 120_000);

  afterAll(async () => {
    for (const s of streams) s.close();
    await balancer?.stop();
    await Promise.all(started.map((p) => p.stop()));
    await stopAllSpawned(); // anything whose start failed half-way
    await receiver?.stop();
    await db?.end();
    if (database) await dropDatabase(OWNER_URL, database);
    if (env) await deleteRedisKeys(env.REDIS_URL, `${env.QUEUE_PREFIX}:*`);
  }, 60_000);

  const via = () => request(balancer!.url);
  const auth = (u: User | string) => ({
    authorization: `Bearer ${typeof u === 'string' ? u : u.token}`,
  });
  /** Which API process (host:port) served the request that carried this X-Request-Id. */
  // nginx writes a request's log line when it finalizes the request, which may trail the
  // response the client already has: wait for it.
  const servedBy = (requestId: string) =>
    eventually(
      () => balancer!.accessLog().find((l) => l.requestId === requestId)?.upstream,
      5_000,
      `nginx's log line of request ${requestId}`,
    );
  const apiOf = (upstream: string | undefined) =>
    apis.find((a) => upstream === `127.0.0.1:${a.port}`);
  const metrics = async (base: string) => {
    const res = await fetch(`${base}/metrics`, { headers: auth(metricsToken) });
    expect(res.status).toBe(200);
    return res.text();
  };
  /** The sum of a metric's samples whose labels match. */
  const sum = (text: string, name: string, labels: RegExp = /.*/) =>
    [...text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))]
      .filter((m) => labels.test(m[1] ?? ''))
      .reduce((total, m) => total + Number(m[2]), 0);

  it('runs the committed configuration: the stream unbuffered, with a long read timeout', () => {
    const conf = readFileSync(NGINX_CONF, 'utf8');
    const events = /location = \/api\/v1\/events \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    expect(events).toMatch(/^\s*proxy_buffering off;$/m);
    expect(events).toMatch(/^\s*proxy_read_timeout 1h;$/m);
    expect(conf).toMatch(/^\s*proxy_http_version 1\.1;$/m);
    expect(conf).toMatch(/^\s*keepalive \d+;$/m);
  });

  it('spreads requests over both API processes', async () => {
    const serviceToken = mintToken(secret, { sub: randomUUID(), role: 'service' });
    for (const [key, role] of [
      ['admin', 'org_admin'],
      ['ann', 'resident'],
      ['bob', 'resident'],
    ] as const) {
      const userId = randomUUID();
      const res = await via()
        .put(`/api/v1/admin/orgs/${org}/members/${userId}`)
        .set(auth(serviceToken))
        .send({ displayName: key, role });
      expect(res.status).toBe(201);
      users[key] = {
        userId,
        token: mintToken(secret, { sub: userId, orgId: org, role, name: key }),
      };
    }
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = randomUUID();
      ids.push(id);
      const me = await via().get('/api/v1/me').set(auth(users.ann)).set('x-request-id', id);
      expect(me.status).toBe(200);
      // The request id nginx passed on is the one the service answers with.
      expect(me.headers['x-request-id']).toBe(id);
    }
    // Round robin, its position shared by nginx's worker processes: one after the other.
    const upstreams = await Promise.all(ids.map(servedBy));
    expect(new Set(upstreams)).toEqual(new Set(apis.map((a) => `127.0.0.1:${a.port}`)));
    for (let i = 1; i < upstreams.length; i++) expect(upstreams[i]).not.toBe(upstreams[i - 1]);
    // Each process counts what it served.
    for (const api of apis) {
      expect(
        sum(
          await metrics(api.url),
          'http_server_request_duration_seconds_count',
          /route="\/api\/v1\/me"/,
        ),
      ).toBeGreaterThanOrEqual(3);
    }
  });

  it('runs the messaging scenario through the balancer', async () => {
    const started = await via()
      .post('/api/v1/messages/threads')
      .set(auth(users.ann))
      .send({ recipientId: users.bob.userId });
    expect(started.status).toBe(201);
    threadId = started.body.thread.id;

    const sent: { id: string; body: string }[] = [];
    for (const [from, body] of [
      [users.ann, 'one'],
      [users.bob, 'two'],
      [users.ann, 'three'],
      [users.ann, 'four'],
    ] as const) {
      const res = await via()
        .post(`/api/v1/messages/threads/${threadId}/messages`)
        .set(auth(from))
        .send({ body });
      expect(res.status).toBe(201);
      sent.push({ id: res.body.id, body });
    }

    const list = await via().get('/api/v1/messages/threads').set(auth(users.bob));
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toMatchObject({ id: threadId, unreadCount: 2 });
    expect(list.body.data[0].lastMessage.body).toBe('four');

    // Paged: the newest two, then the two before them, whichever process serves each page.
    const page = (query: string) =>
      via().get(`/api/v1/messages/threads/${threadId}/messages${query}`).set(auth(users.bob));
    const newest = await page('?limit=2');
    expect(newest.status).toBe(200);
    const older = await page(`?limit=2&before=${newest.body.nextCursor}`);
    expect(older.status).toBe(200);
    const bodies = [...newest.body.data, ...older.body.data].map((m: { body: string }) => m.body);
    expect(bodies.sort()).toEqual(['four', 'one', 'three', 'two']);
    const after = await page(`?after=${sent[1].id}`);
    expect(after.body.data.map((m: { body: string }) => m.body)).toEqual(['three', 'four']);

    expect((await via().get('/api/v1/messages/unread-count').set(auth(users.bob))).body).toEqual({
      total: 2,
      threads: 1,
    });
    const read = await via().post(`/api/v1/messages/threads/${threadId}/read`).set(auth(users.bob));
    expect(read.status).toBe(200);
    expect((await via().get('/api/v1/messages/unread-count').set(auth(users.bob))).body).toEqual({
      total: 0,
      threads: 0,
    });
  });

  it('streams events through nginx at once, produced by requests the other API process served', async () => {
    const stream = await openStream(balancer!.url, users.bob);
    streams.push(stream);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    await stream.waitFor('unread.changed', 1, PROMPT_MS);
    // Which process holds it: the stream's request is logged only when it ends, so ask them.
    const held = await Promise.all(
      apis.map(async (a) => {
        const ready = await (await fetch(`${a.url}/health/ready`)).json();
        return (ready as { info: { events: { streams: number } } }).info.events.streams;
      }),
    );
    expect(held.sort()).toEqual([0, 1]);
    const holder = apis[held.indexOf(1)];

    // Ann sends through the balancer until a send reaches the process that does not hold Bob's
    // stream (round robin: the first or the second); each message reaches the stream promptly.
    const crossed: number[] = [];
    for (let i = 0; i < 4 && crossed.length < 2; i++) {
      const requestId = randomUUID();
      const res = await via()
        .post(`/api/v1/messages/threads/${threadId}/messages`)
        .set(auth(users.ann))
        .set('x-request-id', requestId)
        .send({ body: `streamed ${i}` });
      expect(res.status).toBe(201);
      const sentAt = Date.now();
      await stream.until(
        (c) =>
          c
            .named<{ message: { id: string } }>('message.created')
            .some((e) => e.message.id === res.body.id),
        PROMPT_MS,
        `message ${i} on the stream within ${PROMPT_MS} ms`,
      );
      const server = apiOf(await servedBy(requestId));
      expect(server).toBeDefined();
      if (server !== holder) crossed.push(Date.now() - sentAt);
    }
    expect(crossed.length).toBeGreaterThan(0);
    for (const ms of crossed) expect(ms).toBeLessThan(PROMPT_MS);
  });

  it('makes the notification, shown on the stream and in the inbox', async () => {
    const [stream] = streams;
    await stream.waitFor('notification.created', 1, 10_000);
    const deadline = Date.now() + 10_000;
    let inbox: { type: string }[] = [];
    while (Date.now() < deadline) {
      const res = await via().get('/api/v1/notifications').set(auth(users.bob));
      expect(res.status).toBe(200);
      inbox = res.body.data;
      if (inbox.some((n) => n.type === 'message.received')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(inbox.map((n) => n.type)).toContain('message.received');
  });

  it('delivers webhooks, and both workers take jobs', async () => {
    const endpoint = await via()
      .post('/api/v1/webhooks/endpoints')
      .set(auth(users.admin))
      .send({ url: receiver!.url(), events: ['message.created'] });
    expect(endpoint.status).toBe(201);

    // Jobs done by each worker: notifications and webhooks handed out by the relay, and
    // deliveries (BullMQ jobs all; the stream's pump is not counted).
    const jobs = async (w: { base: string }) => {
      const text = await metrics(w.base);
      return (
        sum(
          text,
          'outbox_consumer_events_total',
          /consumer="(notifications|webhooks)".*outcome="done"|outcome="done".*consumer="(notifications|webhooks)"/,
        ) + sum(text, 'webhook_deliveries_total', /outcome="succeeded"/)
      );
    };
    // Which worker takes a job is BullMQ's choice: send bursts until each has taken some.
    const messageIds: string[] = [];
    let done: number[] = [];
    const deadline = Date.now() + 20_000;
    for (let round = 0; Date.now() < deadline; round++) {
      const burst = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          via()
            .post(`/api/v1/messages/threads/${threadId}/messages`)
            .set(auth(i % 2 ? users.bob : users.ann))
            .send({ body: `burst ${round}.${i}` }),
        ),
      );
      for (const res of burst) {
        expect(res.status).toBe(201);
        messageIds.push(res.body.id);
      }
      await new Promise((r) => setTimeout(r, 300));
      done = await Promise.all(workers.map(jobs));
      if (done.every((n) => n > 0)) break;
    }
    expect(done.map((n) => n > 0)).toEqual([true, true]);

    // Every message reaches the receiver.
    const delivered = () =>
      new Set(
        receiver!.received
          .map((r) => JSON.parse(r.body) as { type: string; data: { messageId: string } })
          .filter((b) => b.type === 'message.created')
          .map((b) => b.data.messageId),
      );
    const until = Date.now() + 15_000;
    while (messageIds.some((id) => !delivered().has(id)) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(messageIds.filter((id) => !delivered().has(id))).toEqual([]);
  });
});

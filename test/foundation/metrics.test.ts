import type { ChildProcess } from 'node:child_process';
import { startTestApp, UNTHROTTLED, type TestApp } from '../support/test-app';
import {
  drainOutbox,
  eventually,
  kill,
  ownerClient,
  spawnWorkerWithHealth,
} from '../support/async';
import { WebhookReceiver } from '../support/webhook-receiver';
import { PgPool } from '../../src/platform/database/pg-pool';
import { API, markRead, newThread, pair, sent } from '../support/factories';
import { listen, openStream } from '../support/sse';

const TOKEN = 'metrics-token-for-the-tests-0123456789';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The value of one sample (`name{labels} value`) of a Prometheus text answer; undefined: absent. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const given = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => given[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** Every label value of a Prometheus text answer. */
function labelValues(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .flatMap((line) => [...line.matchAll(/[a-zA-Z_]+="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]));
}

describe('GET /metrics (Prometheus)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
      WORKER_ENABLED: 'true',
      METRICS_TOKEN: TOKEN,
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
      OUTBOX_POLL_MS: '20',
    });
  });
  afterAll(() => t.close());

  const scrape = async () => {
    const res = await t.http().get('/metrics').set('authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    return res.text;
  };

  it('refuses anonymous and wrong credentials with 401 problem details', async () => {
    const anonymous = await t.http().get('/metrics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm="operators"/);
    expect(JSON.parse(anonymous.text)).toMatchObject({ status: 401, title: 'Unauthorized' });
    const wrongToken = await t.http().get('/metrics').set('authorization', `Bearer ${TOKEN}x`);
    expect(wrongToken.status).toBe(401);
    const wrongOperator = await t.http().get('/metrics').auth(t.config.operator.user, 'wrong');
    expect(wrongOperator.status).toBe(401);
    // Outside /api/v1, and not in the API's document.
    expect((await t.http().get(`${API}/metrics`)).status).toBe(404);
    const doc = await t.http().get('/docs-json');
    expect(Object.keys(doc.body.paths)).not.toContain('/metrics');
  });

  it('answers the operator’s credentials and the metrics token in the text format', async () => {
    const operator = await t
      .http()
      .get('/metrics')
      .auth(t.config.operator.user, t.config.operator.password);
    expect(operator.status).toBe(200);
    expect(operator.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(operator.headers['cache-control']).toBe('no-store');
    expect(operator.text).toContain('# TYPE http_server_request_duration_seconds histogram');
    const token = await t.http().get('/metrics').set('authorization', `Bearer ${TOKEN}`);
    expect(token.status).toBe(200);
    expect(token.text).toContain('# TYPE db_pool_connections gauge');
  });

  it('has the default metrics, labelled process="api", and the pool and queue gauges', async () => {
    const text = await scrape();
    expect(sample(text, 'process_cpu_user_seconds_total', { process: 'api' })).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds', { process: 'api' })).toBeDefined();
    expect(sample(text, 'db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
    expect(sample(text, 'db_pool_connections', { state: 'waiting' })).toBe(0);
    expect(sample(text, 'queue_metrics_up')).toBe(1);
    expect(text).toMatch(/^queue_jobs\{queue="[a-z-]+",state="waiting"\} \d+$/m);
  });

  it('counts requests by route template, never by id, and open event streams', async () => {
    const before = await scrape();
    const route = '/api/v1/messages/threads/:id/messages';
    const labels = { method: 'POST', route, status_class: '2xx' };
    const sendsBefore = sample(before, 'http_server_request_duration_seconds_count', labels) ?? 0;

    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread } = await newThread(t, alice, bob, 'Hello');
    const message = await sent(t, alice, thread.id, 'Are you there?');
    expect((await markRead(t, bob, thread.id, message.id)).status).toBeLessThan(300);
    expect((await t.http().get(`${API}/no-such-route/${thread.id}`)).status).toBe(404);

    const stream = await openStream(await listen(t), bob);
    try {
      await stream.waitFor('unread.changed');
      const text = await scrape();
      expect(sample(text, 'http_server_request_duration_seconds_count', labels)).toBe(
        sendsBefore + 1,
      );
      expect(
        sample(text, 'http_server_request_duration_seconds_count', {
          method: 'POST',
          route: '/api/v1/messages/threads',
          status_class: '2xx',
        }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sample(text, 'http_server_request_duration_seconds_count', {
          method: 'GET',
          route: 'unmatched',
          status_class: '4xx',
        }),
      ).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'http_server_requests_in_flight')).toBeGreaterThanOrEqual(2);
      expect(sample(text, 'event_streams_open')).toBe(1);
      expect(sample(text, 'event_stream_events_sent_total')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'event_stream_slow_dropped_total')).toBe(0);

      // No org, user, thread or message id, nor any other UUID, in any label value.
      for (const id of [org, alice.userId, bob.userId, thread.id, message.id]) {
        expect(text).not.toContain(id);
      }
      expect(labelValues(text).filter((value) => UUID.test(value))).toEqual([]);
      expect(text).not.toMatch(UUID);
    } finally {
      stream.close();
    }
    await eventually(async () => sample(await scrape(), 'event_streams_open') === 0);
  });

  it('moves the outbox, consumer, webhook and database counters after a send, read and stream event', async () => {
    const receiver = await new WebhookReceiver().start();
    const db = await ownerClient(t.database);
    try {
      const before = await scrape();
      const count = (text: string, name: string, labels: Record<string, string> = {}) =>
        sample(text, name, labels) ?? 0;
      const org = t.createOrg();
      const admin = await t.createMember(org, { role: 'org_admin' });
      const alice = await t.createMember(org);
      const bob = await t.createMember(org);
      const endpoint = await t
        .http()
        .post(`${API}/webhooks/endpoints`)
        .set('authorization', `Bearer ${admin.token}`)
        .send({ url: receiver.url(), events: ['message.created', 'message.read'] });
      expect(endpoint.status).toBe(201);
      const stream = await openStream(await listen(t), bob);
      let threadId = '';
      try {
        const { thread } = await newThread(t, alice, bob, 'Hello');
        threadId = thread.id;
        const message = await sent(t, alice, thread.id, 'Metrics, please');
        await stream.waitFor('message.created');
        expect((await markRead(t, bob, thread.id, message.id)).status).toBeLessThan(300);
        await eventually(() => receiver.received.length >= 3, 15_000, 'three webhook deliveries');
        await drainOutbox(db, 15_000);
      } finally {
        stream.close();
      }
      // A statement PostgreSQL refuses (division by zero: class 22).
      await expect(t.app.get(PgPool).query({ sql: 'select 1 / 0', params: [] })).rejects.toThrow();

      const text = await scrape();
      const moved = (name: string, labels: Record<string, string> = {}) =>
        count(text, name, labels) - count(before, name, labels);
      // Two messages, a read: three webhook-worthy events, relayed and consumed.
      expect(moved('outbox_events_relayed_total')).toBeGreaterThanOrEqual(3);
      expect(moved('outbox_consumer_events_total', { consumer: 'webhooks', outcome: 'done' })).toBe(
        3,
      );
      expect(
        moved('outbox_consumer_events_total', { consumer: 'notifications', outcome: 'done' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        moved('outbox_consumer_events_total', { consumer: 'events', outcome: 'done' }),
      ).toBeGreaterThanOrEqual(3);
      expect(moved('outbox_consumer_lag_seconds_count', { consumer: 'webhooks' })).toBe(3);
      expect(
        moved('outbox_consumer_lag_seconds_bucket', { consumer: 'webhooks', le: '+Inf' }),
      ).toBe(3);
      expect(moved('webhook_deliveries_total', { outcome: 'succeeded' })).toBe(3);
      expect(moved('webhook_attempt_duration_seconds_count', { result: '2xx' })).toBe(3);
      expect(moved('db_statement_errors_total', { sqlstate_class: '22' })).toBe(1);
      expect(sample(text, 'db_deadlock_retries_total')).toBe(0);
      expect(
        sample(text, 'outbox_redispatched_total', { reason: 'redis-restart' }),
      ).toBeUndefined();
      // Drained: nothing pending at any stage, and so no age.
      for (const stage of ['relay', 'notifications', 'webhooks', 'events', 'deliveries']) {
        expect({ stage, pending: sample(text, 'outbox_pending_events', { stage }) }).toEqual({
          stage,
          pending: 0,
        });
        expect(sample(text, 'outbox_oldest_pending_age_seconds', { stage })).toBe(0);
      }
      for (const id of [org, admin.userId, alice.userId, bob.userId, threadId]) {
        expect(text).not.toContain(id);
      }
      expect(text).not.toMatch(UUID);
    } finally {
      await db.end();
      await receiver.stop();
    }
  });
});

describe('http_server_rate_limited_total', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...UNTHROTTLED, RATE_LIMIT_WRITES_PER_SECOND: '1' });
  });
  afterAll(() => t.close());

  it('counts 429s by the limit that answered them', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread } = await newThread(t, alice, bob);
    const answers = await Promise.all(
      [1, 2, 3].map(() =>
        t
          .http()
          .post(`${API}/messages/threads/${thread.id}/messages`)
          .set('authorization', `Bearer ${alice.token}`)
          .send({ body: 'hi' }),
      ),
    );
    const limited = answers.filter((res) => res.status === 429).length;
    expect(limited).toBeGreaterThan(0);
    const res = await t
      .http()
      .get('/metrics')
      .auth(t.config.operator.user, t.config.operator.password);
    expect(sample(res.text, 'http_server_rate_limited_total', { limit: 'writes' })).toBe(limited);
  });
});

describe('the standalone worker’s /metrics', () => {
  let t: TestApp;
  let worker: ChildProcess;
  let base: string;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: TOKEN });
    ({ worker, base } = await spawnWorkerWithHealth(t.env));
  });
  afterAll(async () => {
    await kill(worker, 'SIGTERM');
    await t.close();
  });

  it('is protected like the API’s, and describes the worker', async () => {
    await eventually(async () => (await fetch(`${base}/health/live`).catch(() => null))?.ok);
    const anonymous = await fetch(`${base}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(
      (await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
    const basic = Buffer.from(`${t.config.operator.user}:${t.config.operator.password}`);
    const operator = await fetch(`${base}/metrics`, {
      headers: { authorization: `Basic ${basic.toString('base64')}` },
    });
    expect(operator.status).toBe(200);
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(sample(text, 'process_cpu_user_seconds_total', { process: 'worker' })).toBeGreaterThan(
      0,
    );
    expect(sample(text, 'db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
    expect(sample(text, 'queue_metrics_up')).toBe(1);
    // The backlog is counted as the worker's role (rm_outbox_backlog is granted to it alone).
    expect(sample(text, 'outbox_pending_events', { stage: 'relay' })).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'outbox_oldest_pending_age_seconds', { stage: 'webhooks' })).toBeDefined();
    expect(text).toContain('# TYPE webhook_deliveries_total counter');
    expect(text).not.toContain('http_server_request_duration_seconds');
    expect(text).not.toContain('event_streams_open');
    expect(text).not.toMatch(UUID);
  });
});

describe('METRICS_ENABLED=false', () => {
  let t: TestApp;
  let worker: ChildProcess;
  let base: string;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: TOKEN, METRICS_ENABLED: 'false' });
    ({ worker, base } = await spawnWorkerWithHealth(t.env));
  });
  afterAll(async () => {
    await kill(worker, 'SIGTERM');
    await t.close();
  });

  it('serves no /metrics on the API or the worker, and the API works as before', async () => {
    const api = await t.http().get('/metrics').set('authorization', `Bearer ${TOKEN}`);
    expect(api.status).toBe(404);
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
    const { alice, threadId } = await pair(t, t.createOrg());
    const message = await sent(t, alice, threadId, 'still served');
    expect(message.body).toBe('still served');
    await eventually(async () => (await fetch(`${base}/health/live`).catch(() => null))?.ok);
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

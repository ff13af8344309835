import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from 'pg';
import request from 'supertest';
import { loadConfig } from '../../src/config/app-config';
import { mintToken } from '../../src/platform/auth/tokens';
import { dropDatabase } from '../../src/platform/database/bootstrap';
import { tracingRequested, validTraceparent } from '../../src/platform/tracing/tracing';
import { drainOutbox, eventually, ownerClient } from '../support/async';
import { OWNER_URL } from '../support/env';
import {
  spawnApi,
  spawnTrackedWorker,
  stopAllSpawned,
  type ApiProcess,
  type SpawnedProcess,
} from '../support/processes';
import { createTestDatabase, deleteRedisKeys, testEnv } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * Traces (issue 18): an API process and a worker process, from source, exporting OTLP/HTTP JSON
 * to a collector of the test's own on 127.0.0.1 (standing in for an OpenTelemetry Collector; the
 * SDK's in-memory exporter would need a hook into the processes). A send made inside a trace the
 * client started must show, in that one trace: the API's request, the relay's publication of its
 * outbox event, the notifications and webhooks consumers' work on it, the webhook attempt and its
 * HTTP request (whose `traceparent` header the receiver sees), and the API's log line.
 */

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
}

/** An OTLP/HTTP receiver for the JSON encoding (ids as hex, as the JS exporter writes them). */
class Collector {
  readonly spans: Span[] = [];
  private server?: Server;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') this.record(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  private record(text: string): void {
    type Value = { stringValue?: string; intValue?: string | number; boolValue?: boolean };
    type KeyValue = { key: string; value: Value };
    const body = JSON.parse(text) as {
      resourceSpans: {
        resource: { attributes: KeyValue[] };
        scopeSpans: {
          spans: (Omit<Span, 'service' | 'attributes'> & { attributes: KeyValue[] })[];
        }[];
      }[];
    };
    const plain = (kvs: KeyValue[]) =>
      Object.fromEntries(
        kvs.map(({ key, value }) => [key, value.stringValue ?? value.intValue ?? value.boolValue]),
      );
    for (const rs of body.resourceSpans) {
      const service = String(plain(rs.resource.attributes)['service.name']);
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          this.spans.push({ ...span, service, attributes: plain(span.attributes) });
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('traces from the request to the webhook attempt (OpenTelemetry)', () => {
  let database: string | undefined;
  let env: Record<string, string> | undefined;
  let db: Client | undefined;
  let api: ApiProcess;
  let worker: SpawnedProcess;
  const collector = new Collector();
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    await collector.start();
    await receiver.start();
    database = await createTestDatabase();
    env = testEnv(database, {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url(),
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
      OUTBOX_POLL_MS: '20',
      LOG_LEVEL: 'info',
    });
    db = await ownerClient(database);
    // Both tracked from their spawn: stopAllSpawned stops whatever did start.
    [api, worker] = await Promise.all([spawnApi(env, 'api'), spawnTrackedWorker(env, 'worker')]);
  }, 120_000);

  afterAll(async () => {
    await stopAllSpawned();
    await db?.end();
    await receiver.stop();
    await collector.stop();
    if (database) await dropDatabase(OWNER_URL, database);
    if (env) await deleteRedisKeys(env.REDIS_URL, `${env.QUEUE_PREFIX}:*`);
  }, 60_000);

  it('is off unless an OTLP endpoint is configured', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(
      tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }),
    ).toBe(true);
    expect(
      tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBe(false);
    expect(
      tracingRequested({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_TRACES_EXPORTER: 'none',
      }),
    ).toBe(false);
    expect(validTraceparent(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`)).not.toBeNull();
    expect(
      validTraceparent(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01'; drop table x; --`),
    ).toBeNull();
  });

  it('follows one message from its request through the outbox and jobs to the webhook attempt', async () => {
    const secret = loadConfig(env).auth.jwtSecret ?? '';
    const org = randomUUID();
    const member = (role: 'org_admin' | 'resident', name: string) => {
      const userId = randomUUID();
      return { userId, token: mintToken(secret, { sub: userId, orgId: org, role, name }) };
    };
    const admin = member('org_admin', 'Ada Admin');
    const alice = member('resident', 'Alice');
    const bob = member('resident', 'Bob');
    const as = (m: { token: string }) => ({ authorization: `Bearer ${m.token}` });
    const http = () => request(api.url);
    // JIT provisioning: each member's first request creates the membership.
    for (const m of [admin, alice, bob]) {
      expect((await http().get('/api/v1/me').set(as(m))).status).toBe(200);
    }
    const endpoint = await http()
      .post('/api/v1/webhooks/endpoints')
      .set(as(admin))
      .send({ url: receiver.url(), events: ['message.created'] });
    expect(endpoint.status).toBe(201);
    const thread = await http()
      .post('/api/v1/messages/threads')
      .set(as(alice))
      .send({ recipientId: bob.userId, body: 'First' });
    expect(thread.status).toBe(201);
    await drainOutbox(db!);
    await eventually(() => receiver.received.length >= 1, 15_000, 'the first delivery');

    // The client starts the trace (as a traced frontend or gateway would).
    const traceId = randomBytes(16).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');
    const send = await http()
      .post(
        `/api/v1/messages/threads/${(thread.body as { thread: { id: string } }).thread.id}/messages`,
      )
      .set(as(alice))
      .set('traceparent', `00-${traceId}-${clientSpan}-01`)
      .send({ body: 'Traced' });
    expect(send.status).toBe(201);
    const messageId = (send.body as { id: string }).id;

    // The webhook request carries the trace (the attempt's HTTP client span).
    const delivery = await eventually(
      () => receiver.received.find((r) => r.body.includes(messageId)),
      15_000,
      'the traced message’s delivery',
    );
    expect(String(delivery.headers.traceparent)).toMatch(
      new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`),
    );
    // The event kept the request's context; the notification it caused continues it.
    await drainOutbox(db!);
    const events = await db!.query<{ type: string; traceparent: string | null }>(
      `select type, traceparent from outbox_events where message_id = $1 or type = 'notification.created'
        order by created_at`,
      [messageId],
    );
    const created = events.rows.find((e) => e.type === 'message.created');
    expect(created?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(
      events.rows.filter((e) => e.type === 'notification.created').at(-1)?.traceparent,
    ).toMatch(new RegExp(`^00-${traceId}-`));
    const deliveryRow = await db!.query<{ traceparent: string | null }>(
      `select d.traceparent from webhook_deliveries d join outbox_events e on e.id = d.event_id
        where e.message_id = $1`,
      [messageId],
    );
    expect(deliveryRow.rows[0]?.traceparent).toMatch(new RegExp(`^00-${traceId}-`));

    // One trace, exported by both processes, linked parent to child.
    const inTrace = () => collector.spans.filter((s) => s.traceId === traceId);
    const named = (name: string) => inTrace().find((s) => s.name === name);
    await eventually(
      () =>
        named('webhook attempt') &&
        named('notifications consumer') &&
        named('webhooks consumer') &&
        named('outbox relay') &&
        inTrace().some((s) => s.parentSpanId === clientSpan) &&
        inTrace().some((s) => s.parentSpanId === named('webhook attempt')!.spanId),
      15_000,
      'the spans of the traced send',
    );
    const spans = inTrace();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const server = spans.find((s) => s.parentSpanId === clientSpan);
    expect(server).toMatchObject({ service: 'resident-messaging-api', kind: 2 /* SERVER */ });
    expect(server!.name).toBe('POST /api/v1/messages/threads/:id/messages');
    expect(server!.attributes['http.route']).toBe('/api/v1/messages/threads/:id/messages');
    // No id of the URL in the span's name (the template only).
    expect(server!.name).not.toMatch(/[0-9a-f]{8}-/);
    // The API's statements are in the request's trace.
    expect(
      spans.some((s) => s.service === 'resident-messaging-api' && /pg|select|BEGIN/i.test(s.name)),
    ).toBe(true);
    const relay = spans.find(
      (s) => s.name === 'outbox relay' && s.attributes['rm.outbox_event_id'] !== undefined,
    );
    expect(relay).toMatchObject({ service: 'resident-messaging-worker', kind: 4 /* PRODUCER */ });
    expect(byId.get(relay!.parentSpanId!)?.service).toBe('resident-messaging-api');
    for (const consumer of ['notifications consumer', 'webhooks consumer']) {
      expect(named(consumer)).toMatchObject({
        kind: 5 /* CONSUMER */,
        parentSpanId: relay!.spanId,
        service: 'resident-messaging-worker',
      });
    }
    const attempt = named('webhook attempt')!;
    expect(attempt.parentSpanId).toBe(named('webhooks consumer')!.spanId);
    const post = spans.find(
      (s) =>
        s.parentSpanId === attempt.spanId && s.kind === 3 /* CLIENT */ && s.name.startsWith('POST'),
    );
    expect(post).toBeDefined();
    expect(String(delivery.headers.traceparent)).toBe(`00-${traceId}-${post!.spanId}-01`);

    // The API's request log line names the trace.
    await eventually(
      () => api.output().includes(`"trace_id":"${traceId}"`),
      5_000,
      'a log line with the trace id',
    );
    expect(worker.output()).not.toContain('Error');
  });
});

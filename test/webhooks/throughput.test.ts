import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApp, bearer, type TestApp, UNTHROTTLED } from '../support/test-app';
import { eventually, ownerClient } from '../support/async';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.service';
import { pair, sent } from '../support/factories';

/**
 * A receiver that answers after `delayMs` with `status`, and records what a fairness check needs:
 * how many requests it held at once (at most), and on how many connections they came.
 */
class CountingReceiver {
  status = 204;
  delayMs = 0;
  received = 0;
  /** Requests answered 2xx. */
  succeeded = 0;
  inFlight = 0;
  maxInFlight = 0;
  readonly connections = new Set<string>();
  private server?: Server;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.connections.add(`${req.socket.remotePort}`);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      req.resume();
      req.on('end', () => {
        setTimeout(() => {
          this.inFlight--;
          this.received++;
          if (this.status < 300) this.succeeded++;
          res.writeHead(this.status).end();
        }, this.delayMs).unref();
      });
    });
    // Connections stay open between requests (Node's default is 5 s).
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hook`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** Issue 19: deliveries fair between endpoints, a failing one probed one at a time, keep-alive. */
describe('webhook delivery throughput and fairness', () => {
  let t: TestApp;
  const receivers: CountingReceiver[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
      WORKER_ENABLED: 'true',
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2',
      WEBHOOK_TIMEOUT_MS: '5000',
      WEBHOOK_CONCURRENCY_PER_ENDPOINT: '2',
      OUTBOX_POLL_MS: '20',
    });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    await t.close();
  });

  /** An org whose endpoint (message.created) posts to a new receiver, and a thread to send in. */
  const orgWithEndpoint = async () => {
    const receiver = await new CountingReceiver().start();
    receivers.push(receiver);
    const org = t.createOrg();
    const admin = await t.createMember(org, { role: 'org_admin' });
    const created = await t
      .http()
      .post('/api/v1/webhooks/endpoints')
      .set(bearer(admin))
      .send({ url: receiver.url(), events: ['message.created'] });
    expect(created.status).toBe(201);
    const { alice, threadId } = await pair(t, org);
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) await sent(t, alice, threadId, `message ${i}`);
    };
    return { org, receiver, send };
  };

  it('lets a slow endpoint hold at most its share while another endpoint’s deliveries go on', async () => {
    const slow = await orgWithEndpoint();
    const fast = await orgWithEndpoint();
    slow.receiver.delayMs = 400;
    await slow.send(10);
    await fast.send(10);
    await eventually(() => fast.receiver.received === 10, 10_000, 'the fast endpoint’s ten');
    // Ten slow answers two at a time take two seconds: the fast endpoint did not wait for them.
    expect(slow.receiver.received).toBeLessThan(10);
    await eventually(() => slow.receiver.received === 10, 15_000, 'the slow endpoint’s ten');
    expect(slow.receiver.maxInFlight).toBe(2);
    expect(fast.receiver.maxInFlight).toBeLessThanOrEqual(2);
  });

  it('probes a failing endpoint one attempt at a time, and delivers everything once it recovers', async () => {
    const failing = await orgWithEndpoint();
    failing.receiver.status = 500;
    failing.receiver.delayMs = 100;
    await failing.send(6);
    await eventually(() => failing.receiver.received >= 12, 15_000, 'a dozen failed attempts');
    // The first attempts may overlap (the endpoint was healthy then); once it fails, one at a time.
    const overlapBeforeFailure = failing.receiver.maxInFlight;
    expect(overlapBeforeFailure).toBeLessThanOrEqual(2);
    failing.receiver.maxInFlight = failing.receiver.inFlight;
    const seen = failing.receiver.received;
    await eventually(() => failing.receiver.received >= seen + 6, 15_000, 'more failed attempts');
    expect(failing.receiver.maxInFlight).toBe(1);
    failing.receiver.status = 204;
    failing.receiver.delayMs = 0;
    await eventually(() => failing.receiver.succeeded === 6, 15_000, 'the six after recovery');
  });

  it('reuses connections to a receiver (keep-alive)', async () => {
    const endpoint = await orgWithEndpoint();
    await endpoint.send(12);
    await eventually(() => endpoint.receiver.received === 12, 10_000, 'twelve deliveries');
    // Two in flight at most: a handful of connections, not one per attempt.
    expect(endpoint.receiver.connections.size).toBeLessThanOrEqual(4);
  });

  it('starts an attempt once per dispatch: another job holding it does not post, the job that started it may again', async () => {
    const { org, receiver, send } = await orgWithEndpoint();
    await send(1);
    await eventually(() => receiver.succeeded === 1, 10_000, 'the first delivery');
    const db = await ownerClient(t.database);
    try {
      const [{ id }] = (
        await db.query<{ id: string }>(
          `select d.id from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
            where e.org_id = $1`,
          [org],
        )
      ).rows;
      // A second attempt dispatched (as the relay would, out of its sight: no next_attempt_at),
      // possibly already started by a job that crashed (`startedJob`).
      const dispatch = async (startedJob: string | null) =>
        (
          await db.query<{ dispatches: number }>(
            `update webhook_deliveries
                set dispatches = dispatches + 1, next_attempt_at = null,
                    lease_until = now() + interval '1 minute',
                    started_dispatch = case when $2::text is null then null else dispatches + 1 end,
                    started_job = $2
              where id = $1 returning dispatches`,
            [id, startedJob],
          )
        ).rows[0].dispatches;
      const dispatcher = t.app.get(WebhookDispatcher);
      const attempt = (job: string, attemptNo: number, dispatchNo: number) =>
        dispatcher.deliver(job, org, [
          { deliveryId: id, attempt: attemptNo, dispatch: dispatchNo },
        ]);

      // Two jobs with the same dispatch (a relay transaction that failed to commit, regrouped).
      receiver.delayMs = 200;
      const d2 = await dispatch(null);
      const outcomes = await Promise.all([attempt('job-a', 2, d2), attempt('job-b', 2, d2)]);
      expect(outcomes.map((o) => o[id]).sort()).toEqual(['stale', 'succeeded']);
      expect(receiver.received).toBe(2);

      // A job that started the third attempt and crashed runs again; another job may not.
      const d3 = await dispatch('job-c');
      expect((await attempt('job-d', 3, d3))[id]).toBe('stale');
      expect(receiver.received).toBe(2);
      expect((await attempt('job-c', 3, d3))[id]).toBe('succeeded');
      expect(receiver.received).toBe(3);
    } finally {
      await db.end();
    }
  });
});

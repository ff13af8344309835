/**
 * The fault run (`npm run test:faults`, `-- --short` in CI): a load client sends messages with
 * known clientMessageIds while the script breaks the service's own PostgreSQL, Redis, worker and
 * API processes; when all is quiet it checks that nothing was lost or duplicated. Exit code 1 on
 * any violated invariant. See docs/reliability.md.
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import {
  enableDevAppLogin,
  ensureDatabase,
  migrateUp,
} from '../../src/platform/database/bootstrap';
import { mintToken } from '../../src/platform/auth/tokens';
import { bullConnection } from '../../src/platform/queues/redis-connection';
import { eventually, freePort, OwnRedis, pause } from '../support/async';
import { WebhookReceiver } from '../support/webhook-receiver';
import { OwnPostgres } from './own-postgres';

const SHORT = process.argv.includes('--short');
const SENDERS = SHORT ? 10 : 30;
const PHASE_MS = SHORT ? 4_000 : 10_000;
/** Each sender sends about this often: a steady load the system can absorb, not a saturation test. */
const SEND_EVERY_MS = 100;
const JWT_SECRET = 'fault-run-secret-fault-run-secret-0123456789';
const ROOT = join(__dirname, '../..');

type Outcome = 'ok' | 'failed' | 'unknown';
interface SendRecord {
  key: string;
  sender: number;
  body: string;
  outcome: Outcome;
  messageId?: string;
  attempts: number;
  lastStatus?: number | string;
}
interface FaultReport {
  fault: string;
  injectedAt: number;
  restoredAt: number;
  firstOkAfterMs: number | null;
  backlogDrainedAfterMs: number | null;
  errorsDuring: number;
}

class ServiceProcess {
  child?: ChildProcess;
  private output = '';
  private stopping = false;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: Record<string, string>,
    private readonly ready: () => Promise<boolean>,
  ) {}

  async start(): Promise<void> {
    this.output = '';
    this.child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, this.entry)], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    const child = this.child;
    child.once('exit', (code, signal) => {
      if (this.child === child && !this.stopping) {
        process.stdout.write(
          `!! ${this.name} exited unexpectedly (${code ?? signal}):\n${this.tail()}\n`,
        );
      }
    });
    await eventually(
      async () => {
        if (this.child?.exitCode !== null) throw new Error(`${this.name} exited:\n${this.output}`);
        return this.ready();
      },
      60_000,
      `${this.name} to be ready`,
    );
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    this.stopping = true;
    return new Promise((resolve) => {
      child.once('exit', () => {
        this.stopping = false;
        resolve();
      });
      child.kill(signal);
    });
  }

  tail(): string {
    return this.output.slice(-3000);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const log = (text: string) =>
    process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${text}\n`);
  const pg = new OwnPostgres(await freePort());
  const cleanups: (() => Promise<void> | void)[] = [() => pg.destroy()];
  let exitCode = 1;
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // best effort
      }
    }
  };
  // Interrupted: stop every process this run started before leaving.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanUp().then(() => process.exit(130)));
  }
  try {
    log(`fault run (${SHORT ? 'short' : 'full'}): own PostgreSQL on ${pg.port}`);
    pg.init();
    const redis = await OwnRedis.start();
    cleanups.push(() => redis.stop());
    const dbUrl = `postgres://postgres@127.0.0.1:${pg.port}/rm_faults`;
    await ensureDatabase(dbUrl);
    await migrateUp(dbUrl);
    await enableDevAppLogin(dbUrl);
    const receiver = await new WebhookReceiver().start();
    cleanups.push(() => receiver.stop());

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      DATABASE_URL: dbUrl,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: `faults-${randomUUID().slice(0, 6)}`,
      JWT_SECRET,
      LOG_LEVEL: 'warn',
      DEV_SEED: 'false',
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '1,1,2,2,3,5,5',
      RATE_LIMIT_WRITES_PER_SECOND: '100000',
      RATE_LIMIT_READS_PER_SECOND: '100000',
      RATE_LIMIT_THREADS_PER_HOUR: '100000',
      JOB_LOCK_MS: '3000',
      JOB_STALLED_INTERVAL_MS: '1000',
      DATABASE_ACQUIRE_TIMEOUT_MS: '2000',
    };
    const api = new ServiceProcess(
      'api',
      'src/main.ts',
      { ...env, PORT: String(port), WORKER_ENABLED: 'false' },
      async () => {
        try {
          return (await fetch(`${base}/health/ready`)).status === 200;
        } catch {
          return false;
        }
      },
    );
    // The worker is ready when its own health endpoint says so (PostgreSQL and Redis answer).
    const workerHealth = `http://127.0.0.1:${await freePort()}`;
    const worker = new ServiceProcess(
      'worker',
      'src/worker.ts',
      { ...env, LOG_LEVEL: 'info', WORKER_HEALTH_PORT: new URL(workerHealth).port },
      async () => {
        try {
          return (await fetch(`${workerHealth}/health/ready`)).status === 200;
        } catch {
          return false;
        }
      },
    );
    cleanups.push(
      () => api.kill(),
      () => worker.kill(),
    );
    await api.start();
    const startWorker = () => worker.start();
    await startWorker();
    log('API and worker are up');

    // Fixtures: one org, an admin with a webhook endpoint, SENDERS pairs (sender → recipient).
    const org = randomUUID();
    const token = (sub: string, role: string, name: string) =>
      mintToken(
        JWT_SECRET,
        { sub, orgId: org, role: role as 'resident', name },
        { expiresInSeconds: 3600 },
      );
    const call = async (
      method: string,
      path: string,
      auth: string,
      body?: unknown,
      timeoutMs = 5000,
    ) => {
      const res = await fetch(base + path, {
        method,
        headers: {
          authorization: `Bearer ${auth}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      return {
        status: res.status,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
    };
    const admin = token(randomUUID(), 'org_admin', 'Admin');
    const endpoint = await call('POST', '/api/v1/webhooks/endpoints', admin, {
      url: receiver.url(),
      events: ['message.created'],
    });
    if (endpoint.status !== 201)
      throw new Error(`endpoint: ${endpoint.status} ${JSON.stringify(endpoint.body)}`);
    const secret = endpoint.body.secret as string;
    const pairs: {
      sender: string;
      senderToken: string;
      recipient: string;
      recipientToken: string;
      thread: string;
    }[] = [];
    for (let i = 0; i < SENDERS; i++) {
      const sender = randomUUID();
      const recipient = randomUUID();
      const recipientToken = token(recipient, 'resident', `Recipient ${i}`);
      await call('GET', '/api/v1/me', recipientToken);
      const senderToken = token(sender, 'resident', `Sender ${i}`);
      const opened = await call('POST', '/api/v1/messages/threads', senderToken, {
        recipientId: recipient,
      });
      if (opened.status !== 201) throw new Error(`thread: ${opened.status}`);
      pairs.push({
        sender,
        senderToken,
        recipient,
        recipientToken,
        thread: (opened.body.thread as { id: string }).id,
      });
    }
    log(`${pairs.length} threads ready; load starts`);

    // The load: each sender sends back to back; unknown outcomes are retried with the same key.
    const records = new Map<string, SendRecord>();
    const errorsAt: number[] = [];
    const okAt: number[] = [];
    let running = true;
    const sendOnce = async (record: SendRecord) => {
      const pair = pairs[record.sender];
      record.attempts++;
      try {
        const res = await call(
          'POST',
          `/api/v1/messages/threads/${pair.thread}/messages`,
          pair.senderToken,
          {
            body: record.body,
            clientMessageId: record.key,
          },
        );
        record.lastStatus = res.status;
        if (res.status === 201 || res.status === 200) {
          if (record.messageId && record.messageId !== res.body.id)
            throw new Error(`key ${record.key} answered two ids`);
          record.outcome = 'ok';
          record.messageId = res.body.id as string;
          okAt.push(Date.now());
        } else if (res.status === 409 && String(res.body.type).endsWith('request-in-progress')) {
          record.outcome = 'unknown';
          errorsAt.push(Date.now());
        } else if (res.status >= 500 || res.status === 429) {
          record.outcome = 'unknown';
          errorsAt.push(Date.now());
        } else {
          record.outcome = 'failed';
        }
      } catch (error) {
        record.lastStatus = (error as Error).name;
        record.outcome = 'unknown';
        errorsAt.push(Date.now());
      }
    };
    const loops = pairs.map(async (_pair, i) => {
      let n = 0;
      while (running) {
        const pending = [...records.values()].find(
          (r) => r.sender === i && r.outcome === 'unknown' && r.attempts < 50,
        );
        const record = pending ?? {
          key: `s${i}-m${n++}`,
          sender: i,
          body: `message ${n} of sender ${i}`,
          outcome: 'unknown' as Outcome,
          attempts: 0,
        };
        records.set(record.key, record);
        const began = Date.now();
        await sendOnce(record);
        await pause(
          Math.max(record.outcome === 'unknown' ? 200 : 0, SEND_EVERY_MS - (Date.now() - began)),
        );
      }
    });

    const owner = async () => {
      const client = new Client({ connectionString: dbUrl });
      await client.connect();
      return client;
    };
    /** Asynchronous work not done yet, of events created before `until` (all when omitted). */
    const backlog = async (until?: Date): Promise<number> => {
      try {
        const db = await owner();
        try {
          const { rows } = await db.query<{ n: number }>(
            `select (select count(*) from outbox_events where published_at is null and created_at <= $1)
                  + (select count(*) from event_consumers where done_at is null and dead_at is null and created_at <= $1)
                  + (select count(*) from webhook_deliveries d join outbox_events e on e.id = d.event_id
                      where d.status in ('pending', 'failed') and e.created_at <= $1) as n`,
            [until ? until.toISOString() : '9999-12-31T00:00:00Z'],
          );
          return Number(rows[0].n);
        } finally {
          await db.end();
        }
      } catch {
        return Number.POSITIVE_INFINITY;
      }
    };
    /** What is still pending, for a diagnosis when something does not drain. */
    const describeBacklog = async (): Promise<string> => {
      const db = await owner();
      try {
        const parts = [];
        for (const sql of [
          `select count(*)::int as unpublished, min(created_at) as oldest from outbox_events where published_at is null`,
          `select consumer, count(*)::int as n, min(next_attempt_at) as next, max(dispatches) as dispatches,
                    max(attempts) as attempts, max(last_error) as error
               from event_consumers where done_at is null and dead_at is null group by consumer`,
          `select count(*)::int as dead from event_consumers where dead_at is not null`,
          `select status, count(*)::int as n, min(next_attempt_at) as next, max(lease_until) as lease, max(last_error) as error
             from webhook_deliveries where status in ('pending', 'failed') group by status`,
        ]) {
          parts.push(await db.query(sql));
        }
        return JSON.stringify({
          now: new Date(),
          outbox: parts[0].rows,
          consumers: parts[1].rows,
          dead: parts[2].rows,
          deliveries: parts[3].rows,
        });
      } finally {
        await db.end();
      }
    };
    const progress = setInterval(() => {
      void backlog().then((n) =>
        log(
          `  progress: ${okAt.length} sends acknowledged, ${errorsAt.length} errors, backlog ${n}`,
        ),
      );
    }, 5000);
    cleanups.push(() => clearInterval(progress));
    const reports: FaultReport[] = [];
    const fault = async (
      name: string,
      inject: () => Promise<void> | void,
      restore: () => Promise<void> | void,
      holdMs: number,
    ) => {
      await pause(PHASE_MS);
      const injectedAt = Date.now();
      log(`fault: ${name}`);
      await inject();
      await pause(holdMs);
      await restore();
      const restoredAt = Date.now();
      const firstOk = await eventually(
        () => Promise.resolve(okAt.find((t) => t > restoredAt)),
        60_000,
        `a send after ${name}`,
      );
      // The work of events created up to the restore is done (the load goes on meanwhile).
      const drained = await eventually(
        async () => ((await backlog(new Date(restoredAt))) === 0 ? Date.now() : undefined),
        60_000,
        `the backlog after ${name}`,
      ).catch(async () => {
        log(`  backlog not drained within 60 s: ${await describeBacklog()}`);
        // What the processes said meanwhile, to tell why (their last lines).
        log(`  worker output (tail):\n${worker.tail()}`);
        log(`  API output (tail):\n${api.tail()}`);
        return null;
      });
      reports.push({
        fault: name,
        injectedAt,
        restoredAt,
        firstOkAfterMs: firstOk - restoredAt,
        backlogDrainedAfterMs: drained === null ? null : drained - restoredAt,
        errorsDuring: errorsAt.filter((t) => t >= injectedAt && t <= restoredAt + 5000).length,
      });
      log(`  recovered: first ok after ${firstOk - restoredAt} ms`);
    };

    await fault(
      'Redis killed and restarted',
      () => redis.stop(),
      () => redis.start(),
      3000,
    );
    await fault(
      'Redis paused (SIGSTOP) and resumed',
      () => redis.pause(),
      () => redis.resume(),
      3000,
    );
    await fault(
      'worker SIGKILLed and restarted',
      () => worker.kill('SIGKILL'),
      () => startWorker(),
      1000,
    );
    await fault(
      'API SIGKILLed and restarted',
      () => api.kill('SIGKILL'),
      () => api.start(),
      500,
    );
    await fault(
      'PostgreSQL restarted (immediate)',
      () => pg.restartImmediate(),
      () => undefined,
      0,
    );
    await pause(PHASE_MS);
    running = false;
    await Promise.all(loops);
    log('load stopped; waiting for quiet');
    await eventually(async () => (await backlog()) === 0, 120_000, 'the system to be quiet').catch(
      async (error: Error) => {
        log(`backlog: ${await describeBacklog()}`);
        log(`worker output:\n${worker.tail()}`);
        throw error;
      },
    );

    // ---- checks ----
    const failures: string[] = [];
    const db = await owner();
    cleanups.push(() => db.end());
    const stored = new Map<string, { id: string; n: number }>();
    for (const row of (
      await db.query<{ key: string; id: string; n: string }>(
        `select client_message_id as key, min(id::text) as id, count(*) as n from messages
          where client_message_id is not null group by client_message_id`,
      )
    ).rows) {
      stored.set(row.key, { id: row.id, n: Number(row.n) });
    }
    let acknowledged = 0;
    let unknownResolved = 0;
    let lost = 0;
    let duplicated = 0;
    for (const record of records.values()) {
      const row = stored.get(record.key);
      if (row && row.n > 1) duplicated++;
      if (record.outcome === 'ok') {
        acknowledged++;
        if (!row) lost++;
        else if (row.id !== record.messageId)
          failures.push(`key ${record.key}: acknowledged id ${record.messageId}, stored ${row.id}`);
      } else if (record.outcome === 'unknown') {
        // Unknown: 0 or 1 stored; a retry with the same key returns it (or creates it once).
        const retry = await call(
          'POST',
          `/api/v1/messages/threads/${pairs[record.sender].thread}/messages`,
          pairs[record.sender].senderToken,
          {
            body: record.body,
            clientMessageId: record.key,
          },
        );
        if (row && !(retry.status === 200 && retry.body.id === row.id))
          failures.push(`unknown ${record.key}: stored but retry answered ${retry.status}`);
        if (!row && retry.status !== 201)
          failures.push(`unknown ${record.key}: not stored and retry answered ${retry.status}`);
        unknownResolved++;
      }
    }
    if (lost) failures.push(`${lost} acknowledged sends lost`);
    if (duplicated) failures.push(`${duplicated} keys stored more than once`);
    await eventually(async () => (await backlog()) === 0, 60_000, 'quiet after resolving unknowns');

    const seqs = await db.query<{ thread_id: string; n: string; min: number; max: number }>(
      `select thread_id, count(*) as n, min(seq) as min, max(seq) as max from messages group by thread_id`,
    );
    for (const row of seqs.rows) {
      if (Number(row.n) !== row.max || row.min !== 1)
        failures.push(
          `thread ${row.thread_id}: seq not 1..n (${row.n} messages, ${row.min}..${row.max})`,
        );
    }
    for (const pair of pairs.slice(0, 3)) {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const page = await call(
          'GET',
          `/api/v1/messages/threads/${pair.thread}/messages?limit=100${cursor ? `&before=${cursor}` : ''}`,
          pair.recipientToken,
        );
        const data = page.body.data as { seq: number }[];
        seen.unshift(...data.map((m) => m.seq));
        cursor = page.body.nextCursor as string | null;
      } while (cursor);
      if (seen.some((s, i) => s !== i + 1))
        failures.push(`thread ${pair.thread}: pages do not read 1..n in order`);
    }

    const notif = await db.query<{
      thread_id: string;
      messages: string;
      counted: string;
      open: string;
    }>(
      `select m.thread_id, count(distinct m.id) as messages,
              (select coalesce(sum(n.count), 0) from notifications n where n.thread_id = m.thread_id and n.type = 'message.received') as counted,
              (select count(*) from notifications n where n.thread_id = m.thread_id and n.type = 'message.received' and n.read_at is null) as open
         from messages m group by m.thread_id`,
    );
    for (const row of notif.rows) {
      if (row.messages !== row.counted)
        failures.push(
          `thread ${row.thread_id}: ${row.messages} messages but notifications count ${row.counted}`,
        );
      if (Number(row.open) > 1)
        failures.push(
          `thread ${row.thread_id}: ${row.open} open notifications (expected one, coalesced)`,
        );
    }
    const threadStarted = await db.query<{ n: string }>(
      `select count(*) as n from notifications where type = 'thread.started'`,
    );
    if (Number(threadStarted.rows[0].n) !== pairs.length) {
      failures.push(`thread.started: ${threadStarted.rows[0].n} for ${pairs.length} threads`);
    }

    const events = Number(
      (await db.query<{ n: string }>(`select count(*) as n from messages`)).rows[0].n,
    );
    const ids = new Set<string>();
    let invalid = 0;
    for (const r of receiver.received) {
      try {
        new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
        ids.add(String(r.headers['webhook-id']));
      } catch {
        invalid++;
      }
    }
    if (ids.size !== events)
      failures.push(
        `webhooks: ${ids.size} distinct webhook-ids for ${events} message.created events`,
      );
    if (invalid) failures.push(`webhooks: ${invalid} deliveries with an invalid signature`);

    for (const name of ['outbox-relay', 'notifications', 'webhooks']) {
      const queue = new Queue(name, {
        connection: bullConnection(redis.url, 'worker'),
        prefix: env.QUEUE_PREFIX,
      });
      const active = await queue.getActiveCount();
      await queue.close();
      if (active) failures.push(`queue ${name}: ${active} jobs stuck active`);
    }
    const unpublished = Number(
      (
        await db.query<{ n: string }>(
          `select count(*) as n from outbox_events where published_at is null`,
        )
      ).rows[0].n,
    );
    if (unpublished) failures.push(`${unpublished} outbox events unpublished`);

    // ---- summary ----
    const sends = records.size;
    const table = [
      ['sends (distinct keys)', sends],
      ['acknowledged (201/200)', acknowledged],
      [
        'refused (4xx, definitive)',
        [...records.values()].filter((r) => r.outcome === 'failed').length,
      ],
      ['unknown at the end, resolved by a retry', unknownResolved],
      ['retries with the same key', [...records.values()].reduce((n, r) => n + r.attempts - 1, 0)],
      ['lost', lost],
      ['duplicated', duplicated],
      ['webhook deliveries received (incl. repeats)', receiver.received.length],
      ['distinct webhook-ids / events', `${ids.size} / ${events}`],
    ];
    process.stdout.write('\n| measure | value |\n|---|---|\n');
    for (const [k, v] of table) process.stdout.write(`| ${k} | ${v} |\n`);
    process.stdout.write(
      '\n| fault | errors seen by the client | first 2xx after restore | async backlog drained after restore |\n|---|---|---|---|\n',
    );
    for (const r of reports) {
      process.stdout.write(
        `| ${r.fault} | ${r.errorsDuring} | ${r.firstOkAfterMs} ms | ${r.backlogDrainedAfterMs === null ? 'not drained' : `${r.backlogDrainedAfterMs} ms`} |\n`,
      );
    }
    process.stdout.write(`\ntotal time ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    if (failures.length) {
      process.stdout.write(`\nFAILED:\n- ${failures.slice(0, 50).join('\n- ')}\n`);
      process.stdout.write(`\nAPI output:\n${api.tail()}\nworker output:\n${worker.tail()}\n`);
    } else {
      process.stdout.write('\nall invariants hold: 0 lost, 0 duplicated\n');
      exitCode = 0;
    }
  } catch (error) {
    process.stdout.write(`\nfault run aborted: ${(error as Error).stack ?? String(error)}\n`);
  } finally {
    await cleanUp();
  }
  process.exit(exitCode);
}

void main();

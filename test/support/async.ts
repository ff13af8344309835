import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { urlFor } from './env';

/** A connection as the owner (bypasses RLS): for assertions on raw state. */
export async function ownerClient(database: string): Promise<Client> {
  const client = new Client({ connectionString: urlFor(database) });
  await client.connect();
  return client;
}

/**
 * Waits until every outbox event is published and every consumer row is done (or dead): the
 * asynchronous work is drained. Polls the database; never a fixed sleep.
 */
export async function drainOutbox(db: Client, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ unpublished: number; pending: number }>(
      `select (select count(*)::int from outbox_events where published_at is null) as unpublished,
              (select count(*)::int from event_consumers where done_at is null and dead_at is null) as pending`,
    );
    if (rows[0].unpublished === 0 && rows[0].pending === 0) return;
    if (Date.now() > deadline) {
      const waiting = await db.query(
        `select c.consumer, e.type, c.attempts, c.next_attempt_at, c.last_error
           from event_consumers c join outbox_events e on e.id = c.event_id
          where c.done_at is null and c.dead_at is null limit 5`,
      );
      throw new Error(
        `outbox not drained after ${timeoutMs} ms: ${JSON.stringify(rows[0])} ${JSON.stringify(waiting.rows)}`,
      );
    }
    await pause(25);
  }
}

/** Polls `probe` (async or not) until it returns a truthy value. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(25);
  }
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of the test's own, on its own port, that the test stops and starts. */
export class OwnRedis {
  private process?: ChildProcess;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await eventually(async () => (await this.ping()) === 'PONG', 10_000, 'redis-server to start');
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  private ping(): Promise<string> {
    return new Promise((resolve) => {
      const child = spawn('redis-cli', ['-p', String(this.port), 'ping']);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', () => resolve(out.trim()));
      child.on('error', () => resolve(''));
    });
  }
}

/**
 * A worker process (src/worker.ts run from source) with the given environment; resolves once it
 * logs that it started.
 */
export async function spawnWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join(__dirname, '../../src/worker.ts')],
    {
      env: { ...process.env, ...env, LOG_LEVEL: 'info', WORKER_ENABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('worker started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code}) before starting:\n${output}`));
    });
  });
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/** A worker process (spawnWorker) serving its health endpoints and /metrics at `base`. */
export async function spawnWorkerWithHealth(
  env: Record<string, string>,
): Promise<{ worker: ChildProcess; base: string }> {
  const port = await freePort();
  const worker = await spawnWorker({ ...env, WORKER_HEALTH_PORT: String(port) });
  return { worker, base: `http://127.0.0.1:${port}` };
}

export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

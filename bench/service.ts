import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { appUrl, workerUrl } from './db';
import { startBalancer, type Balancer } from './balancer';
import { freePort, spawnLogged, stopProcess } from './processes';

export { freePort };

export type Shape = 'dev' | 'prod';

export const SHAPES: Record<Shape, string> = {
  dev: 'npm start shape (API + worker in one process, NODE_ENV=development)',
  prod: 'production shape (API process + separate worker process, NODE_ENV=production)',
};

/** The Node options of package.json's start scripts (npm start, start:prod, start:worker). */
export const START_NODE_ARGS = ['--max-semi-space-size=4'];

/** How to start an entry point: the built JavaScript, or (in the smoke test) the sources. */
export type Launcher = (entry: 'main' | 'worker') => { command: string; args: string[] };

export function builtLauncher(distDir: string, nodeArgs: string[] = []): Launcher {
  return (entry) => ({
    command: process.execPath,
    args: [...nodeArgs, join(distDir, 'src', `${entry}.js`)],
  });
}

/** Rate limits raised so that the load (hundreds of users at thousands of req/s) is never throttled. */
export const RAISED_RATE_LIMITS = {
  RATE_LIMIT_WRITES_PER_SECOND: '100000',
  RATE_LIMIT_READS_PER_SECOND: '100000',
  RATE_LIMIT_THREADS_PER_HOUR: '100000',
};

export interface Service {
  shape: Shape;
  /** The API process, or the balancer in front of the API processes. */
  url: string;
  /** The first API process. */
  api: ChildProcess;
  /** Every API process (`balancedApis` of them behind nginx, else the one). */
  apis: ChildProcess[];
  /** nginx in front of the API processes (deploy/nginx/nginx.conf), or null. */
  balancer: Balancer | null;
  /** The first worker process (prod shape), null in the dev shape. */
  worker: ChildProcess | null;
  /** Every worker process (prod shape: `workers` of them). */
  workers: ChildProcess[];
  logFiles: string[];
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts the service against the bench database in one of its two shapes, with its output in
 * log files; resolves once the API answers /health/ready (and the worker has started).
 */
export async function startService(options: {
  shape: Shape;
  ownerUrl: string;
  redisUrl: string;
  jwtSecret: string;
  queuePrefix: string;
  logDir: string;
  launcher: Launcher;
  extraEnv?: Record<string, string>;
  /** Worker processes of the production shape (default 1). */
  workers?: number;
  /**
   * This many API processes behind nginx running deploy/nginx/nginx.conf (the production shape
   * of `docker compose --profile scaled`), reached through it; absent: one API process, directly.
   */
  balancedApis?: number;
}): Promise<Service> {
  const port = await freePort();
  const apiPorts = options.balancedApis
    ? await Promise.all(Array.from({ length: options.balancedApis }, () => freePort()))
    : [port];
  const base: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: options.ownerUrl,
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: options.queuePrefix,
    JWT_SECRET: options.jwtSecret,
    DEV_SEED: 'false',
    WORKER_HEALTH_PORT: '0',
    ...RAISED_RATE_LIMITS,
    ...options.extraEnv,
  };
  const env: Record<string, string> =
    options.shape === 'dev'
      ? { ...base, NODE_ENV: 'development', WORKER_ENABLED: 'true' }
      : {
          ...base,
          NODE_ENV: 'production',
          WORKER_ENABLED: 'false',
          DATABASE_APP_URL: appUrl(options.ownerUrl),
          DATABASE_WORKER_URL: workerUrl(options.ownerUrl),
          OPERATOR_USER: 'bench',
          OPERATOR_PASSWORD: randomBytes(18).toString('base64url'),
          WEBHOOK_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        };
  const apiLogs = apiPorts.map((_, i) =>
    join(options.logDir, `${options.shape}-api${options.balancedApis ? `-${i + 1}` : ''}.log`),
  );
  const workerLogs = Array.from(
    { length: options.shape === 'prod' ? (options.workers ?? 1) : 0 },
    (_, i) => join(options.logDir, `${options.shape}-worker${i ? `-${i + 1}` : ''}.log`),
  );
  const main = options.launcher('main');
  const apis = apiPorts.map((p, i) =>
    spawnLogged(main.command, main.args, { ...env, PORT: String(p) }, apiLogs[i]),
  );
  const workers: ChildProcess[] = [];
  let balancer: Balancer | null = null;
  const stop = async () => {
    await balancer?.stop();
    await Promise.all([...apis, ...workers].map((p) => stopProcess(p)));
  };
  try {
    for (const workerLog of workerLogs) {
      const entry = options.launcher('worker');
      const worker = spawnLogged(entry.command, entry.args, env, workerLog);
      workers.push(worker);
      const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
      try {
        await waitFor(
          async () =>
            logContains(workerLog, 'worker started') ||
            (workers.length === 1 && (await workerConnected(redis, options.queuePrefix))),
          worker,
          workerLog,
          60_000,
        );
      } finally {
        redis.disconnect();
      }
    }
    await Promise.all(
      apis.map((api, i) =>
        waitFor(() => ready(`http://127.0.0.1:${apiPorts[i]}`), api, apiLogs[i], 60_000),
      ),
    );
    if (options.balancedApis) {
      balancer = await startBalancer(
        apiPorts.map((p) => `127.0.0.1:${p}`),
        { dir: join(options.logDir, `${options.shape}-nginx`) },
      );
      if (!(await ready(balancer.url))) throw new Error(`nginx on ${balancer.url} is not ready`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    shape: options.shape,
    url: balancer?.url ?? `http://127.0.0.1:${port}`,
    api: apis[0],
    apis,
    balancer,
    worker: workers[0] ?? null,
    workers,
    logFiles: [...apiLogs, ...workerLogs, ...(balancer ? [join(balancer.dir, 'access.log')] : [])],
    env,
    stop,
  };
}

async function ready(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health/ready`);
    return response.ok;
  } catch {
    return false;
  }
}

function logContains(file: string, text: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes(text);
  } catch {
    return false;
  }
}

/**
 * A BullMQ worker names its Redis connection `<prefix>:<base64 queue name>`: once the
 * notifications worker is connected, the worker process is consuming (whatever its log level).
 */
async function workerConnected(redis: Redis, prefix: string): Promise<boolean> {
  const name = `${prefix}:${Buffer.from('notifications').toString('base64')}`;
  const clients = (await redis.client('LIST')) as string;
  return clients.split('\n').some((line) => line.includes(` name=${name} `));
}

async function waitFor(
  check: () => Promise<boolean>,
  child: ChildProcess,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the service exited (${child.exitCode ?? child.signalCode}); see ${logFile}`);
    }
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the service did not become ready in ${timeoutMs / 1000} s; see ${logFile}`);
}

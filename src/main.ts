// First: OpenTelemetry must patch http, pg and ioredis before they load (when OTEL_* asks).
import './platform/tracing/register';
import 'reflect-metadata';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  APP_ROLE,
  loadConfigOrExit,
  requireOwnerUrl,
  WORKER_ROLE,
  type AppConfig,
} from './config/app-config';
import { createHttpApp } from './http-app';
import { enableDevAppLogin, ensureDatabase, migrateUp } from './platform/database/bootstrap';
import { devTokenBanner, seedDemoOrg } from './platform/dev/dev-seed';
import { workerThread } from './operations/worker-thread-state';

/**
 * The HTTP API. In development (`npm start`) it also creates the database and roles when missing,
 * applies migrations, seeds a demo org, prints tokens, and runs the worker in-process.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit('api');
  if (config.nodeEnv === 'development') await prepareDevelopmentDatabase(config);
  // With WORKER_ENABLED the worker runs in this process, on a thread of its own: its jobs do not
  // queue behind HTTP requests on one event loop (and vice versa).
  const worker = config.workerEnabled ? await startWorkerThread() : null;
  const app = await createHttpApp(config, { worker: false, shutdownHooks: false });
  const shutdown = async () => {
    await Promise.allSettled([app.close(), worker?.stop()]);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
  await app.listen({ port: config.port, host: config.host });
  // The port actually bound (PORT=0 asks the system for a free one).
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const baseUrl = `http://${host}:${port}`;
  if (config.devSeed) process.stdout.write(devTokenBanner(config, baseUrl));
  else process.stdout.write(`Resident Messaging API listening on ${baseUrl}\n`);
}

export async function prepareDevelopmentDatabase(config: AppConfig): Promise<void> {
  const ownerUrl = requireOwnerUrl(config);
  const created = await ensureDatabase(ownerUrl);
  if (created) process.stdout.write('Created the database.\n');
  const applied = await migrateUp(ownerUrl);
  if (applied.length) process.stdout.write(`Applied migrations: ${applied.join(', ')}\n`);
  await enableDevAppLogin(ownerUrl, {
    app: config.database.appPassword ?? APP_ROLE,
    worker: config.database.workerPassword ?? WORKER_ROLE,
  });
  if (config.devSeed && (await seedDemoOrg(ownerUrl))) {
    process.stdout.write('Seeded the demo org.\n');
  }
}

/** The worker of `npm start`, on a worker thread; resolves once it has started. */
async function startWorkerThread(): Promise<{ stop(): Promise<void> }> {
  const thread = new Worker(
    join(__dirname, __filename.endsWith('.ts') ? 'worker.ts' : 'worker.js'),
  );
  await new Promise<void>((resolve, reject) => {
    thread.once('message', (message) => (message === 'ready' ? resolve() : undefined));
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`the worker thread exited (${code})`)));
  });
  thread.on('error', (error) => process.stderr.write(`worker thread failed: ${error.message}\n`));
  thread.once('exit', () => {
    workerThread.exited = true;
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => void thread.terminate().then(() => resolve()), 10_000);
        thread.on('message', (message) => {
          if (message === 'closed') {
            clearTimeout(timer);
            void thread.terminate().then(() => resolve());
          }
        });
        thread.postMessage('shutdown');
      }),
  };
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}

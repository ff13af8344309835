// First: OpenTelemetry must patch http, pg and ioredis before they load (when OTEL_* asks).
import './platform/tracing/register';
import 'reflect-metadata';
import { isMainThread, parentPort } from 'node:worker_threads';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { loadConfigOrExit } from './config/app-config';
import { startWorkerHealthServer } from './operations/worker-health';

/** The worker: BullMQ processors and the outbox relay, no HTTP API. */
export async function startWorker(config: AppConfig): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot(config, { http: false, worker: true }),
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  app.flushLogs();
  await app.init();
  app.get(Logger).log('worker started');
  return app;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit('worker');
  const app = await startWorker(config);
  if (isMainThread) {
    // A worker process (npm run start:worker): close gracefully on SIGTERM/SIGINT, and answer
    // health probes (the npm start shape reports its worker thread on the API's /health/ready).
    app.enableShutdownHooks();
    if (config.workerHealthPort) {
      const server = await startWorkerHealthServer(app, config.host, config.workerHealthPort);
      const close = () => server.close();
      process.once('SIGTERM', close);
      process.once('SIGINT', close);
      app.get(Logger).log(`worker health on port ${config.workerHealthPort} (/health/ready)`);
    }
    return;
  }
  // A worker thread of `npm start`: the main thread asks it to close (signals reach only it).
  parentPort?.on('message', (message) => {
    if (message === 'shutdown') {
      void app.close().finally(() => parentPort?.postMessage('closed'));
    }
  });
  parentPort?.postMessage('ready');
}

if (require.main === module || !isMainThread) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `Worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}

import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/app-config';
import { createHttpApp } from '../http-app';
import { buildOpenApiDocument } from '../platform/http/swagger';

/** Writes openapi.json at the repository root (a test fails when the committed file is stale). */
async function main(): Promise<void> {
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    WORKER_ENABLED: 'false',
    LOG_LEVEL: 'silent',
  });
  // The document needs the controllers' metadata only: the app is not initialised, so neither
  // PostgreSQL nor Redis has to be there.
  const app = await createHttpApp(config);
  const document = buildOpenApiDocument(app);
  writeFileSync(join(__dirname, '../../../openapi.json'), JSON.stringify(document, null, 2) + '\n');
  console.log('Wrote openapi.json');
  // Nothing to flush: exit rather than close. Closing queues whose Redis connections are still
  // being set up can make BullMQ emit a late "Connection is closed" error with no listener left.
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

import 'reflect-metadata';
import { ConfigError, requireOwnerUrl } from '../config/app-config';
import { loadConfigOrExit } from '../config/app-config';
import { entities } from '../schema';
import {
  enableDevAppLogin,
  ensureDatabase,
  migrateUp,
  migrationStatus,
} from '../platform/database/bootstrap';

/**
 * `migration:up`: applies pending migrations as the owner (DATABASE_URL), creating the database
 * first when missing. `migration:check`: fails when migrations are pending or the entities differ
 * from the migrated schema (a migration is missing).
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit('migrations');
  const ownerUrl = requireOwnerUrl(config);
  const command = process.argv[2];
  if (command === 'up') {
    if (await ensureDatabase(ownerUrl)) console.log('Created the database.');
    const applied = await migrateUp(ownerUrl);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
    const { appPassword, workerPassword } = config.database;
    if (appPassword || workerPassword) {
      await enableDevAppLogin(ownerUrl, {
        app: appPassword,
        worker: workerPassword,
      });
      if (appPassword) console.log('The app role (rm_app) can log in with DATABASE_APP_PASSWORD.');
      if (workerPassword)
        console.log('The worker role (rm_worker) can log in with DATABASE_WORKER_PASSWORD.');
    }
    return;
  }
  if (command === 'check') {
    const status = await migrationStatus(ownerUrl, entities);
    if (status.pending.length) {
      console.error(`Pending migrations: ${status.pending.join(', ')} (run npm run migration:up)`);
      process.exitCode = 1;
    }
    if (status.schemaDrift) {
      console.error('The entities differ from the migrated schema; a migration is missing:');
      console.error(status.driftSql);
      process.exitCode = 1;
    }
    if (!process.exitCode) console.log('Schema and migrations are in sync.');
    return;
  }
  console.error('usage: migrate.js up|check');
  process.exitCode = 2;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(error instanceof ConfigError ? 78 : 1);
});

import 'reflect-metadata';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config';
import { createHttpApp } from './http-app';
import { enableDevAppLogin, ensureDatabase, migrateUp } from './platform/database/bootstrap';
import { devTokenBanner, seedDemoOrg } from './platform/dev/dev-seed';

/**
 * The HTTP API. In development (`npm start`) it also creates the database and roles when missing,
 * applies migrations, seeds a demo org, prints tokens, and runs the worker in-process.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (config.nodeEnv === 'development') await prepareDevelopmentDatabase(config);
  const app = await createHttpApp(config);
  await app.listen({ port: config.port, host: config.host });
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const baseUrl = `http://${host}:${config.port}`;
  if (config.devSeed) process.stdout.write(devTokenBanner(config, baseUrl));
  else process.stdout.write(`Resident Messaging API listening on ${baseUrl}\n`);
}

export async function prepareDevelopmentDatabase(config: AppConfig): Promise<void> {
  const created = await ensureDatabase(config.database.ownerUrl);
  if (created) process.stdout.write('Created the database.\n');
  const applied = await migrateUp(config.database.ownerUrl);
  if (applied.length) process.stdout.write(`Applied migrations: ${applied.join(', ')}\n`);
  await enableDevAppLogin(config.database.ownerUrl);
  if (config.devSeed && (await seedDemoOrg(config.database.ownerUrl))) {
    process.stdout.write('Seeded the demo org.\n');
  }
}

export function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}

import 'reflect-metadata';
import { Client } from 'pg';
import {
  dropDatabase,
  enableDevAppLogin,
  ensureDatabase,
  migrateUp,
} from '../../src/platform/database/bootstrap';
import { TEMPLATE_DB, urlFor } from './env';

/**
 * Migrates a template database once per run; each spec file then gets its own copy
 * (CREATE DATABASE … TEMPLATE), so specs run in parallel without sharing rows.
 */
export default async function globalSetup(): Promise<void> {
  const templateUrl = urlFor(TEMPLATE_DB);
  await dropDatabase(templateUrl, TEMPLATE_DB);
  await ensureDatabase(templateUrl);
  await migrateUp(templateUrl);
  await enableDevAppLogin(templateUrl);
  // MikroORM keeps entity metadata on globalThis; Jest copies the globals of this (outer) realm
  // into every test environment, where the foreign Map objects then break entity discovery.
  for (const key of Object.keys(globalThis)) {
    if (key.startsWith('mikro-orm-')) delete (globalThis as Record<string, unknown>)[key];
  }
  // Leftovers of interrupted runs.
  const client = new Client({ connectionString: urlFor('postgres') });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      `select datname from pg_database where datname like 'rm_t\\_%' escape '\\'
         and datname <> $1`,
      [TEMPLATE_DB],
    );
    for (const row of rows) {
      await client.query(`drop database if exists "${row.datname}" with (force)`);
    }
  } finally {
    await client.end();
  }
}

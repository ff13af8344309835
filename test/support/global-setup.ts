import 'reflect-metadata';
import { Client } from 'pg';
import {
  dropDatabase,
  enableDevAppLogin,
  ensureDatabase,
  migrateUp,
} from '../../src/platform/database/bootstrap';
import { urlFor } from './env';

/**
 * Migrates a template database once per run; each spec file then gets its own copy
 * (CREATE DATABASE … TEMPLATE), so specs run in parallel without sharing rows.
 */
export default async function globalSetup(): Promise<void> {
  process.env.RM_TEST_RUN = String(process.pid);
  const template = `rm_tpl_${process.pid}`;
  await dropLeftovers();
  const templateUrl = urlFor(template);
  await dropDatabase(templateUrl, template);
  await ensureDatabase(templateUrl);
  await migrateUp(templateUrl);
  await enableDevAppLogin(templateUrl);
  // MikroORM keeps entity metadata on globalThis; Jest copies the globals of this (outer) realm
  // into every test environment, where the foreign Map objects then break entity discovery.
  for (const key of Object.keys(globalThis)) {
    if (key.startsWith('mikro-orm-')) delete (globalThis as Record<string, unknown>)[key];
  }
}

/** Databases of earlier runs whose process is gone (interrupted runs). */
async function dropLeftovers(): Promise<void> {
  const client = new Client({ connectionString: urlFor('postgres') });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      `select datname from pg_database where datname ~ '^rm_(t|tpl)_[0-9]+'`,
    );
    for (const { datname } of rows) {
      const pid = Number(/^rm_(?:t|tpl)_(\d+)/.exec(datname)?.[1]);
      if (pid && !alive(pid))
        await client.query(`drop database if exists "${datname}" with (force)`);
    }
  } finally {
    await client.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

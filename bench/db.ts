import { Client, Pool, types as pgTypes, type CustomTypesConfig } from 'pg';
import {
  dropDatabase,
  enableDevAppLogin,
  ensureDatabase,
  migrateUp,
} from '../src/platform/database/bootstrap';
import type { SqlQuery } from '../src/platform/tenancy/db.service';

/** The development database and the test databases: the bench never touches them. */
const FORBIDDEN = /^(resident_messaging|postgres|template[01]|rm_tpl_.*)$/;

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The API's role's URL for a database (enableDevAppLogin gives rm_app the password rm_app). */
export function appUrl(ownerUrl: string): string {
  return roleUrl(ownerUrl, 'rm_app');
}

/** The worker's role's URL (password rm_worker, as enableDevAppLogin sets it). */
export function workerUrl(ownerUrl: string): string {
  return roleUrl(ownerUrl, 'rm_worker');
}

function roleUrl(ownerUrl: string, role: string): string {
  const u = new URL(ownerUrl);
  u.username = role;
  u.password = role;
  return u.toString();
}

/** Drops and recreates the bench database, migrates it and lets the app role log in. */
export async function recreateDatabase(ownerUrl: string): Promise<void> {
  const name = databaseName(ownerUrl);
  if (FORBIDDEN.test(name) || /^rm_t_/.test(name)) {
    throw new Error(`refusing to drop ${name}: the bench runs in a database of its own`);
  }
  await dropDatabase(ownerUrl, name);
  await ensureDatabase(ownerUrl);
  await migrateUp(ownerUrl);
  await enableDevAppLogin(ownerUrl);
}

/** knex-style `?` placeholders to PostgreSQL's `$1..$n`, in order. */
export function positional(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export interface PgStatement {
  text: string;
  values: unknown[];
}

export function toPg(query: SqlQuery): PgStatement {
  return { text: positional(query.sql), values: query.params };
}

/**
 * MikroORM installs type parsers that keep timestamps textual; the floor does the same so that
 * both sides do the same client-side work per row.
 */
const TEXT_TYPES = new Set([1082, 1114, 1184]);
const types: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    TEXT_TYPES.has(oid)
      ? (value: string) => value
      : pgTypes.getTypeParser(oid, format ?? 'text')) as CustomTypesConfig['getTypeParser'],
};

export function appPool(ownerUrl: string, max: number): Pool {
  return new Pool({ connectionString: appUrl(ownerUrl), max, types });
}

export async function withOwner<T>(ownerUrl: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

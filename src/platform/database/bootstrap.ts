import type { EntityClass } from '@mikro-orm/core';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { APP_ROLE, WORKER_ROLE } from '../../config/app-config';
import { ormOptions } from './orm-options';

/** Creates the database named in the owner URL when it does not exist yet. */
export async function ensureDatabase(ownerUrl: string): Promise<boolean> {
  const url = new URL(ownerUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount) return false;
    await client.query(`create database ${quoteIdent(name)}`);
    return true;
  } finally {
    await client.end();
  }
}

export async function dropDatabase(ownerUrl: string, name: string): Promise<void> {
  const url = new URL(ownerUrl);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists ${quoteIdent(name)} with (force)`);
  } finally {
    await client.end();
  }
}

export async function createDatabaseFromTemplate(
  ownerUrl: string,
  name: string,
  template: string,
): Promise<void> {
  const url = new URL(ownerUrl);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`create database ${quoteIdent(name)} template ${quoteIdent(template)}`);
  } finally {
    await client.end();
  }
}

/** Applies pending migrations as the owner. Returns the names applied. */
export async function migrateUp(ownerUrl: string): Promise<string[]> {
  const orm = await MikroORM.init(ormOptions({ url: ownerUrl, poolMax: 2 }));
  try {
    const applied = await orm.getMigrator().up();
    return applied.map((m) => m.name);
  } finally {
    await orm.close(true);
  }
}

export interface MigrationStatus {
  pending: string[];
  /** True when the entities differ from the migrated schema (a migration is missing). */
  schemaDrift: boolean;
  driftSql: string;
}

/**
 * Pending migrations, and whether `entities` (the schema model, src/schema) differ from the
 * migrated schema. The entity list is passed in: the platform knows no domain table.
 */
export async function migrationStatus(
  ownerUrl: string,
  entities: EntityClass<unknown>[],
): Promise<MigrationStatus> {
  const orm = await MikroORM.init(ormOptions({ url: ownerUrl, poolMax: 2 }, entities));
  try {
    const pending = (await orm.getMigrator().getPendingMigrations()).map((m) => m.name);
    const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false, safe: false });
    const driftSql = relevantDrift(diff);
    return { pending, schemaDrift: driftSql.length > 0, driftSql };
  } finally {
    await orm.close(true);
  }
}

/**
 * The entity model describes tables, columns, types, defaults, checks and indexes; foreign keys
 * are declared in the migrations only (several are composite, over shared org_id columns), so
 * the generator's wish to drop them is not drift.
 */
export function relevantDrift(diffSql: string): string {
  return diffSql
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s && !/^alter table "[^"]+" drop constraint "?[a-z0-9_]+_fkey"?$/i.test(s))
    .join(';\n');
}

/**
 * Lets the runtime roles log in: the app role (the API) and the worker role. Development uses
 * known passwords (the role names) so that the derived DATABASE_APP_URL and DATABASE_WORKER_URL
 * work out of the box; deployments pass DATABASE_APP_PASSWORD and DATABASE_WORKER_PASSWORD to
 * migration:up (or provision the logins out of band).
 */
export async function enableDevAppLogin(
  ownerUrl: string,
  passwords: { app?: string | null; worker?: string | null } = {
    app: APP_ROLE,
    worker: WORKER_ROLE,
  },
): Promise<void> {
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    for (const [role, password] of [
      [APP_ROLE, passwords.app],
      [WORKER_ROLE, passwords.worker],
    ] as const) {
      if (!password) continue;
      const literal = (
        await client.query<{ q: string }>('select quote_literal($1) as q', [password])
      ).rows[0].q;
      await client.query(`alter role ${role} login password ${literal}`);
    }
  } finally {
    await client.end();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

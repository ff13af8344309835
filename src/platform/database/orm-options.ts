import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { migrationsList } from '../../../migrations';
import type { EntityClass } from '@mikro-orm/core';

export interface OrmConnection {
  url: string;
  poolMax?: number;
  acquireTimeoutMs?: number;
}

/**
 * MikroORM options, for the migrator and the schema check only (as the owner): the service itself
 * runs its SQL through the tenant transaction (platform/tenancy), never through the ORM.
 * `migration:check` passes the schema model's entities (src/schema) to compare them with the
 * migrated schema.
 */
export function ormOptions(conn: OrmConnection, entities: EntityClass<unknown>[] = []): Options {
  return defineConfig({
    clientUrl: conn.url,
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    ensureDatabase: false,
    debug: false,
    schemaGenerator: { createForeignKeyConstraints: false },
    pool: {
      min: 0,
      max: conn.poolMax ?? 10,
      acquireTimeoutMillis: conn.acquireTimeoutMs ?? 3000,
      idleTimeoutMillis: 30000,
    },
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList,
      silent: true,
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      disableForeignKeys: false,
      emit: 'ts',
      path: 'migrations',
    },
  });
}

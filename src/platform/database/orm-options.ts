import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { migrationsList } from '../../../migrations';
import { entities } from './entities';

export interface OrmConnection {
  url: string;
  poolMax?: number;
  acquireTimeoutMs?: number;
}

/**
 * MikroORM options. The same entity list serves the runtime (app role) and the migration CLI
 * (owner); `migration:check` compares these entities with the migrated schema.
 */
export function ormOptions(conn: OrmConnection): Options {
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

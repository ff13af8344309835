import { Injectable } from '@nestjs/common';
import { TenantContext } from '../tenancy/tenant-context';
import { runPrepared } from './pg-pool';
import type { SqlQuery } from './sql';

export type { SqlQuery } from './sql';

/**
 * Raw SQL inside the current tenant transaction: a handful of prepared statements, no identity
 * map. Placeholders are `?` (knex style). Runs on the request's raw connection, or through the
 * ORM's EntityManager on routes marked @UsesOrm().
 */
@Injectable()
export class Db {
  query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const store = TenantContext.store();
    if (store?.client) return runPrepared<T>(store.client, { sql, params });
    if (store?.em) return store.em.execute<T[]>(sql, params, 'all');
    return Promise.reject(new Error('No tenant transaction: run this inside TenantRunner.'));
  }

  run<T>(query: SqlQuery): Promise<T[]> {
    return this.query<T>(query.sql, query.params);
  }

  async one<T>(sql: string, params: unknown[] = []): Promise<T | null> {
    const rows = await this.query<T>(sql, params);
    return rows[0] ?? null;
  }
}

import { Injectable } from '@nestjs/common';
import { runPrepared } from '../database/pg-pool';
import type { SqlQuery } from '../database/sql';
import { TenantContext } from './tenant-context';

export type { SqlQuery } from '../database/sql';

/**
 * SQL inside the current tenant transaction: named prepared statements on the transaction's
 * connection, no identity map. Placeholders are `?` (knex style). Every repository goes through
 * it; outside a tenant transaction it refuses.
 */
@Injectable()
export class Db {
  query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = TenantContext.store()?.client;
    if (!client)
      return Promise.reject(new Error('No tenant transaction: run this inside TenantRunner.'));
    return runPrepared<T>(client, { sql, params });
  }

  run<T>(query: SqlQuery): Promise<T[]> {
    return this.query<T>(query.sql, query.params);
  }

  async one<T>(sql: string, params: unknown[] = []): Promise<T | null> {
    const rows = await this.query<T>(sql, params);
    return rows[0] ?? null;
  }
}

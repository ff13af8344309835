import { Injectable } from '@nestjs/common';
import { TenantContext } from '../tenancy/tenant-context';

/**
 * Raw SQL inside the current tenant transaction. Hot paths use this rather than the ORM's unit of
 * work: a handful of statements, no identity map. Placeholders are `?` (knex style).
 */
/** A statement with knex-style `?` placeholders, built by a repository's query builder. */
export interface SqlQuery {
  sql: string;
  params: unknown[];
}

@Injectable()
export class Db {
  query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return TenantContext.em().execute<T[]>(sql, params, 'all');
  }

  run<T>(query: SqlQuery): Promise<T[]> {
    return this.query<T>(query.sql, query.params);
  }

  async one<T>(sql: string, params: unknown[] = []): Promise<T | null> {
    const rows = await this.query<T>(sql, params);
    return rows[0] ?? null;
  }
}

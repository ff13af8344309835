import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Pool, type PoolClient, type QueryResult } from 'pg';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { Problems, ProblemError } from '../http/problem';
import { prepare, type SqlQuery } from './sql';

/** The runtime connection of this process: the API's role, or the worker's where it runs. */
export const DATABASE_RUNTIME = Symbol('DATABASE_RUNTIME');
export interface DatabaseRuntime {
  url: string;
  /** This process runs the worker (the relay's cross-org functions need the worker's role). */
  worker: boolean;
}

/**
 * The runtime connection pool (as the app role, or the worker role where the worker runs) for the
 * hot paths: node-postgres with bound parameters and prepared statements, no ORM in between. The
 * ORM keeps its own (lazily filled) pool for the few CRUD routes marked @UsesOrm().
 */
@Injectable()
export class PgPool implements OnApplicationShutdown {
  private readonly logger = new Logger(PgPool.name);
  readonly pool: Pool;
  /** Since start, for the metrics: statements PostgreSQL refused, by SQLSTATE class; deadlock retries. */
  readonly stats = { errorsByClass: new Map<string, number>(), conflictRetries: 0 };
  private lastErrorLog = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(DATABASE_RUNTIME) runtime: DatabaseRuntime,
  ) {
    this.pool = new Pool({
      connectionString: runtime.url,
      max: config.database.poolMax,
      connectionTimeoutMillis: config.database.acquireTimeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'resident-messaging',
    });
    // A connection whose server went away (a restart) must not crash the process: node-postgres
    // emits 'error' on the client, idle (the pool listens) or checked out between two queries
    // (nobody would: e.g. the relay waiting on Redis inside its transaction). The next query on
    // it fails, and the transaction discards it.
    const warn = (error: Error) => {
      if (Date.now() - this.lastErrorLog > 10_000) {
        this.lastErrorLog = Date.now();
        this.logger.warn(`database connection lost: ${error.message}`);
      }
    };
    this.pool.on('error', warn);
    this.pool.on('connect', (client) => client.on('error', warn));
  }

  async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw translateDbError(error);
    }
  }

  /** One statement outside any tenant (health checks, the relay's definer functions). */
  async query<T>(query: SqlQuery): Promise<T[]> {
    const { name, text } = prepare(query.sql);
    try {
      const result = await this.pool.query({ name, text, values: query.params });
      return result.rows as T[];
    } catch (error) {
      this.countError(error);
      throw error;
    }
  }

  /**
   * One statement that is a whole transaction of its own (implicit: no BEGIN, no COMMIT, one
   * round trip), such as a route's function. Like a transaction it runs again when PostgreSQL
   * picked it as a deadlock victim, and a full pool answers 503.
   */
  async call<T>(query: SqlQuery): Promise<T[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.query<T>(query);
      } catch (error) {
        if (attempt >= 3 || !isRetryableConflict(error)) throw translateDbError(error);
        this.stats.conflictRetries++;
      }
    }
  }

  /**
   * A transaction on one pooled connection. A connection that failed mid-way is discarded rather
   * than returned to the pool. `begin` may carry more statements after BEGIN, sent in the same
   * round trip (simple protocol); their results are handed to `fn`.
   */
  async transaction<T>(
    fn: (client: PoolClient, opened: QueryResult[]) => Promise<T>,
    begin: (client: PoolClient) => string = () => 'BEGIN',
  ): Promise<T> {
    // A deadlock victim was rolled back whole, so running it again is safe. Lock order makes
    // deadlocks rare (docs/architecture.md); this keeps one from ever reaching a client as a 500.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactionOnce(fn, begin);
      } catch (error) {
        if (attempt >= 3 || !isRetryableConflict(error)) throw error;
        this.stats.conflictRetries++;
      }
    }
  }

  private async transactionOnce<T>(
    fn: (client: PoolClient, opened: QueryResult[]) => Promise<T>,
    begin: (client: PoolClient) => string,
  ): Promise<T> {
    const client = await this.connect();
    let broken = false;
    try {
      const opened = (await client.query(begin(client))) as unknown as QueryResult | QueryResult[];
      const result = await fn(client, Array.isArray(opened) ? opened : [opened]);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      this.countError(error);
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw translateDbError(error);
    } finally {
      client.release(broken);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }

  private countError(error: unknown): void {
    const code = (error as { code?: unknown } | null)?.code;
    // A SQLSTATE is five characters; its first two are the class (23: integrity, 40: rollback…).
    // RMREF is a route function refusing a request (a 403 or 404 to the client), not a fault.
    if (typeof code !== 'string' || code.length !== 5 || code === 'RMREF') return;
    const errors = this.stats.errorsByClass;
    const sqlClass = code.slice(0, 2);
    errors.set(sqlClass, (errors.get(sqlClass) ?? 0) + 1);
  }
}

export async function runPrepared<T>(client: PoolClient, query: SqlQuery): Promise<T[]> {
  const { name, text } = prepare(query.sql);
  const result = await client.query({ name, text, values: query.params });
  return result.rows as T[];
}

/** Deadlock (40P01) or serialization failure (40001): PostgreSQL rolled the transaction back. */
export function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/** Pool saturation becomes a 503 rather than a hung request or a 500. */
export function translateDbError(error: unknown): unknown {
  if (error instanceof ProblemError) return error;
  const message = error instanceof Error ? error.message : '';
  if (
    /timeout exceeded when trying to connect|Knex: Timeout acquiring a connection|pool is probably full/i.test(
      message,
    )
  ) {
    return Problems.unavailable('The service is busy; retry shortly.');
  }
  return error;
}

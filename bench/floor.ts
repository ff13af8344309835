import { PostgreSqlPlatform } from '@mikro-orm/postgresql';
import type { Pool, PoolClient } from 'pg';
import { MessageQueries, ThreadQueries } from '../src/conversations/conversations.queries';
import { routeStatement, type RouteCall } from '../src/platform/tenancy/tenant-runner.service';
import { prepare } from '../src/platform/database/sql';
import { DEFAULT_MESSAGE_PAGE } from '../src/conversations/dto/messages.query';
import { pageLimit } from '../src/platform/http/pagination';
import { requestHash } from '../src/conversations/idempotency';
import type { SqlQuery } from '../src/platform/tenancy/db.service';
import { positional } from './db';
import type { Operation, OperationSource } from './scenarios';
import { Latencies, type LoadResult } from './stats';

/*
 * The floor: the statement each route runs (one per hot route: its rm_api_… function with the
 * tenant entry), as the same role, over node-postgres with no framework in between. Every
 * statement comes from the service's own builders, so the floor follows the code. Like the
 * service, it sends them as named prepared statements.
 */

/**
 * How statements reach PostgreSQL: `prepared` (the default, what the service does) binds
 * parameters to named prepared statements, planned once per connection; `extended` binds them to
 * the unnamed statement (planned every time); `simple` inlines them as literals (what MikroORM's
 * `em.execute` would send).
 */
export type FloorProtocol = 'prepared' | 'extended' | 'simple';

const platform = new PostgreSqlPlatform();

type Run = <T = Record<string, unknown>>(query: SqlQuery) => Promise<T[]>;

function runner(client: PoolClient, protocol: FloorProtocol): Run {
  return async <T>(query: SqlQuery) => {
    const result =
      protocol === 'simple'
        ? await client.query(platform.formatQuery(query.sql, query.params))
        : protocol === 'prepared'
          ? await client.query({ ...prepare(query.sql), values: query.params })
          : await client.query(positional(query.sql), query.params);
    return result.rows as T[];
  };
}

/**
 * One request's statement as the service runs it: every hot route is one statement (issue 17),
 * the route function called with the tenant entry (TenantRunner.callAsMember builds it the same
 * way), outside BEGIN: one round trip, one implicit transaction.
 */
export async function floorTransaction(
  client: PoolClient,
  op: Operation,
  protocol: FloorProtocol = 'prepared',
): Promise<void> {
  const run = runner(client, protocol);
  const principal = {
    orgId: op.user.orgId,
    userId: op.user.userId,
    name: op.user.name,
    role: op.user.role,
  };
  const [row] = await run<{ active: boolean; status?: string }>(
    routeStatement(principal, true, undefined, null, routeOf(op)),
  );
  if (!row?.active) throw new Error('membership missing or inactive');
  if (op.kind === 'send' && row.status !== 'created') throw new Error(`send: ${row.status}`);
}

/** The route function of an operation, from the service's own builders. */
function routeOf(op: Operation): RouteCall {
  switch (op.kind) {
    case 'send':
      return MessageQueries.sendAs({
        threadId: op.thread!.threadId,
        senderId: op.user.userId,
        body: op.body!,
        clientMessageId: op.clientMessageId ?? null,
        hash: requestHash(op.body!),
        first: false,
      });
    case 'thread-page':
      return MessageQueries.threadView(op.thread!.threadId, DEFAULT_MESSAGE_PAGE);
    case 'after-poll':
      return MessageQueries.messagePage(
        op.thread!.threadId,
        { after: op.thread!.afterId! },
        DEFAULT_MESSAGE_PAGE,
      );
    case 'thread-list':
      return ThreadQueries.list(null, pageLimit(undefined));
    case 'unread-count':
      return MessageQueries.unreadCountAs();
  }
}

/**
 * Runs the floor of a scenario: `concurrency` loops, each taking a pooled connection per
 * transaction (as the service does per request), for `seconds`.
 */
export async function runFloor(options: {
  pool: Pool;
  concurrency: number;
  seconds: number;
  source: OperationSource;
  protocol?: FloorProtocol;
}): Promise<LoadResult> {
  const latencies = new Latencies();
  const samples: string[] = [];
  let failed = 0;
  const started = performance.now();
  const end = started + options.seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const op = options.source.next();
      const t = performance.now();
      const client = await options.pool.connect();
      try {
        await floorTransaction(client, op, options.protocol);
        latencies.add(performance.now() - t);
      } catch (error) {
        failed++;
        if (samples.length < 5) samples.push(`${op.kind}: ${(error as Error).message}`);
      } finally {
        client.release();
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  const completed = latencies.count;
  return {
    rps: completed / seconds,
    completed,
    seconds,
    ...latencies.summary(),
    non2xx: failed,
    errors: 0,
    statusCodes: {},
    samples,
  };
}

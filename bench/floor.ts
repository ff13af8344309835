import { PostgreSqlPlatform } from '@mikro-orm/postgresql';
import type { Pool, PoolClient } from 'pg';
import { MessageQueries, ThreadQueries } from '../src/conversations/conversations.queries';
import {
  toViewerContext,
  type ThreadRow,
  type ViewerContext,
  type ViewerRow,
} from '../src/conversations/conversations.rows';
import { beginAsMember } from '../src/platform/tenancy/tenant-runner.service';
import { prepare } from '../src/platform/database/sql';
import { DEFAULT_MESSAGE_PAGE } from '../src/conversations/dto/messages.query';
import { pageLimit } from '../src/platform/http/pagination';
import { requestHash } from '../src/conversations/idempotency';
import type { SqlQuery } from '../src/platform/tenancy/db.service';
import type { MemberRole } from '../src/platform/auth/roles';
import { positional } from './db';
import type { Operation, OperationSource } from './scenarios';
import { Latencies, type LoadResult } from './stats';

/*
 * The floor: the statements each route runs, in the same order, inside the same transaction, as
 * the same role, over node-postgres with no framework in between. Every statement comes from the
 * service's own builders (tenant entry, thread row, page, cursor, send, list, unread count), so
 * the floor follows the code. Like the service, it sends them as named prepared statements.
 */

interface Member {
  userId: string;
  displayName: string;
  role: MemberRole;
  readReceipts: boolean;
  receiptsSince: string;
  active: boolean;
}

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

/** One request's transaction, statement for statement as the service runs it. */
export async function floorTransaction(
  client: PoolClient,
  op: Operation,
  protocol: FloorProtocol = 'prepared',
): Promise<void> {
  const run = runner(client, protocol);
  try {
    // BEGIN and the tenant entry in one round trip, exactly as TenantRunner does.
    const opened = (await client.query(
      beginAsMember(
        { orgId: op.user.orgId, userId: op.user.userId, name: op.user.name, role: op.user.role },
        true,
        (v) => client.escapeLiteral(v),
      ),
    )) as unknown as { rows: Member[] }[];
    const member = opened[1]?.rows[0];
    if (!member?.active) throw new Error('membership missing or inactive');
    await routeStatements(run, op, member);
    await client.query('COMMIT;');
  } catch (error) {
    await client.query('ROLLBACK;').catch(() => undefined);
    throw error;
  }
}

async function routeStatements(run: Run, op: Operation, member: Member): Promise<void> {
  const userId = op.user.userId;
  switch (op.kind) {
    case 'send': {
      const [row] = await run<{ status: string }>(
        MessageQueries.send({
          threadId: op.thread!.threadId,
          senderId: userId,
          body: op.body!,
          clientMessageId: op.clientMessageId ?? null,
          hash: requestHash(op.body!),
          first: false,
        }),
      );
      if (row?.status !== 'created') throw new Error(`send: ${row?.status}`);
      return;
    }
    case 'thread-page': {
      const [row] = await run<ThreadRow>(ThreadQueries.one(op.thread!.threadId, userId));
      if (!row) throw new Error('thread-page: not a participant');
      const ctx = toViewerContext(row, meOf(member));
      await run(MessageQueries.page(ctx, {}, DEFAULT_MESSAGE_PAGE + 1));
      return;
    }
    case 'after-poll': {
      const ctx = await viewer(run, op.thread!.threadId, member);
      const [seen] = await run<{ seq: number }>(
        MessageQueries.visibleSeq(ctx, op.thread!.afterId!),
      );
      if (!seen) throw new Error('after: cursor not visible');
      await run(MessageQueries.page(ctx, { afterSeq: seen.seq }, DEFAULT_MESSAGE_PAGE));
      return;
    }
    case 'thread-list':
      await run(ThreadQueries.list(op.user.orgId, userId, pageLimit(undefined) + 1, null));
      return;
    case 'unread-count':
      await run(MessageQueries.unreadCount(op.user.orgId, userId));
      return;
  }
}

function meOf(me: Member) {
  return {
    userId: me.userId,
    displayName: me.displayName,
    role: me.role,
    readReceipts: me.readReceipts,
    receiptsSince: new Date(me.receiptsSince),
  };
}

/** MessagesRepository.viewer: the viewer query, mapped to the context the page query takes. */
async function viewer(run: Run, threadId: string, me: Member): Promise<ViewerContext> {
  const [row] = await run<ViewerRow>(MessageQueries.viewer(threadId, me.userId));
  if (!row) throw new Error('viewer: not a participant');
  return toViewerContext(row, meOf(me));
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

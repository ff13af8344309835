import { PostgreSqlPlatform } from '@mikro-orm/postgresql';
import type { Pool, PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { MessageQueries, type ViewerContext } from '../src/messages/messages.repository';
import { ThreadQueries } from '../src/threads/threads.repository';
import { DEFAULT_MESSAGE_PAGE } from '../src/messages/dto/messages.query';
import { pageLimit } from '../src/platform/http/pagination';
import { requestHash } from '../src/messages/idempotency';
import type { SqlQuery } from '../src/platform/database/db.service';
import type { MemberRole } from '../src/members/membership.entity';
import { positional } from './db';
import type { Operation, OperationSource } from './scenarios';
import { Latencies, type LoadResult } from './stats';

/*
 * The floor: the statements each route runs, in the same order, inside the same transaction, as
 * the same role, over node-postgres with no framework in between. The hot read queries come from
 * the repositories' exported builders. Four statements have no builder in src/ and are mirrored
 * here verbatim (keep them in step with the code):
 * - the tenant entry (TenantRunner.runAsMember),
 * - the thread row (ThreadsRepository.one: the list's select with another where clause),
 * - the `after` cursor lookup (MessagesRepository.visibleSeq),
 * - the send (MessagesRepository.send).
 */

/** TenantRunner.runAsMember: the first statement of every member request. */
export const ENTER_TENANT = `select user_id as "userId", display_name as "displayName", role, visibility,
                read_receipts as "readReceipts", receipts_since as "receiptsSince", active,
                created_at as "createdAt", updated_at as "updatedAt"
           from rm_enter_tenant(?, ?, ?, ?, ?)`;

/** MessagesRepository.send. */
export const SEND = `select status, message_id as "messageId", seq, created_at as "createdAt"
         from rm_send_message(?, ?, ?, ?, ?, ?, ?)`;

/** ThreadsRepository.one: the thread list's select for one thread. */
export function threadOne(threadId: string, userId: string): SqlQuery {
  const list = ThreadQueries.list('', '', 1, null).sql;
  const cut = list.lastIndexOf('where tp.org_id = ?');
  if (cut < 0)
    throw new Error('ThreadQueries.list changed shape: update threadOne in bench/floor.ts');
  return {
    sql: `${list.slice(0, cut).trimEnd()} where tp.thread_id = ? and tp.user_id = ?`,
    params: [threadId, userId],
  };
}

/** MessagesRepository.visibleSeq: the `after` cursor's seq, if the viewer can see it. */
export function visibleSeq(ctx: ViewerContext, messageId: string): SqlQuery {
  return {
    sql: `select m.seq from messages m where m.id = ? and m.thread_id = ? and (m.sender_id = ?::uuid or (not m.withheld and not ?::boolean))`,
    params: [messageId, ctx.threadId, ctx.me.userId, ctx.blocksOther],
  };
}

interface Member {
  userId: string;
  displayName: string;
  role: MemberRole;
  readReceipts: boolean;
  receiptsSince: string;
  active: boolean;
}

/**
 * How statements reach PostgreSQL: `extended` binds parameters ($1..$n, the unnamed statement,
 * what node-postgres does with values); `simple` inlines them as literals the way the service's
 * MikroORM `em.execute` does (Platform.formatQuery, then one simple-protocol query).
 */
export type FloorProtocol = 'extended' | 'simple';

const platform = new PostgreSqlPlatform();

type Run = <T = Record<string, unknown>>(query: SqlQuery) => Promise<T[]>;

function runner(client: PoolClient, protocol: FloorProtocol): Run {
  return async <T>(query: SqlQuery) => {
    const result =
      protocol === 'simple'
        ? await client.query(platform.formatQuery(query.sql, query.params))
        : await client.query(positional(query.sql), query.params);
    return result.rows as T[];
  };
}

/** One request's transaction, statement for statement as the service runs it. */
export async function floorTransaction(
  client: PoolClient,
  op: Operation,
  protocol: FloorProtocol = 'extended',
): Promise<void> {
  const run = runner(client, protocol);
  await client.query('BEGIN;');
  try {
    const [member] = await run<Member>({
      sql: ENTER_TENANT,
      params: [op.user.orgId, op.user.userId, op.user.name, op.user.role, true],
    });
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
      const [row] = await run<{ status: string }>({
        sql: SEND,
        params: [
          op.thread!.threadId,
          userId,
          uuidv7(),
          op.body,
          op.clientMessageId,
          requestHash(op.body!),
          false,
        ],
      });
      if (row?.status !== 'created') throw new Error(`send: ${row?.status}`);
      return;
    }
    case 'thread-page': {
      const ctx = await viewer(run, op.thread!.threadId, member);
      await run(threadOne(op.thread!.threadId, userId));
      await run(MessageQueries.page(ctx, {}, DEFAULT_MESSAGE_PAGE + 1));
      return;
    }
    case 'after-poll': {
      const ctx = await viewer(run, op.thread!.threadId, member);
      const [seen] = await run<{ seq: number }>(visibleSeq(ctx, op.thread!.afterId!));
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

/** MessagesRepository.viewer: the viewer query, mapped to the context the page query takes. */
async function viewer(run: Run, threadId: string, me: Member): Promise<ViewerContext> {
  const [row] = await run<{
    threadId: string;
    kind: 'direct';
    createdAt: string;
    blocksOther: boolean;
    lastReadSeq: number;
    lastVisibleSeq: number | null;
    otherId: string;
    otherName: string;
    otherRole: MemberRole;
    otherReceipts: boolean;
    otherReceiptsSince: string;
  }>(MessageQueries.viewer(threadId, me.userId));
  if (!row) throw new Error('viewer: not a participant');
  return {
    threadId: row.threadId,
    kind: row.kind,
    createdAt: row.createdAt,
    blocksOther: row.blocksOther,
    lastReadSeq: row.lastReadSeq,
    lastVisibleSeq: row.lastVisibleSeq,
    me: {
      userId: me.userId,
      displayName: me.displayName,
      role: me.role,
      readReceipts: me.readReceipts,
      receiptsSince: new Date(me.receiptsSince),
    },
    other: {
      userId: row.otherId,
      displayName: row.otherName,
      role: row.otherRole,
      readReceipts: row.otherReceipts,
      receiptsSince: new Date(row.otherReceiptsSince),
    },
  };
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

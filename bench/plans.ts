import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { MessageQueries, ThreadQueries } from '../src/conversations/conversations.queries';
import {
  toViewerContext,
  type ViewerContext,
  type ViewerRow,
} from '../src/conversations/conversations.rows';
import { DEFAULT_MESSAGE_PAGE } from '../src/conversations/dto/messages.query';
import { pageLimit } from '../src/platform/http/pagination';
import { requestHash } from '../src/conversations/idempotency';
import type { SqlQuery } from '../src/platform/tenancy/db.service';
import { appUrl, positional, withOwner } from './db';
import { enterTenantQuery } from '../src/platform/tenancy/tenant-runner.service';
import type { PrincipalRole } from '../src/platform/auth/principal';
import type { Fixtures } from './fixtures';

export interface PlanSummary {
  name: string;
  /** Planning is repeated on every call: the service sends no prepared statements. */
  planningMs: number;
  executionMs: number;
  /** Shared buffers hit + read by the whole statement. */
  buffers: number;
  seqScans: string[];
}

interface Subject {
  orgId: string;
  userId: string;
  name: string;
  role: string;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of every statement of the hot routes, as the app role inside a
 * tenant transaction (rolled back: the send really runs), against the worst cases of the data
 * set: the longest thread (page, `after`) and the member with the most threads (list, unread).
 * Each statement runs twice and the second (warm) plan is kept. Writes one text file per
 * statement under `dir` and returns the figures.
 */
export async function savePlans(
  ownerUrl: string,
  fixtures: Fixtures,
  dir: string,
  label: string,
): Promise<PlanSummary[]> {
  mkdirSync(dir, { recursive: true });
  const heavy = fixtures.heaviestThread;
  const busy = fixtures.busiestMember;
  const subjects = await withOwner(ownerUrl, async (c) => {
    const load = async (orgId: string, userId: string): Promise<Subject> => {
      const { rows } = await c.query<{ name: string; role: string }>(
        `select display_name as name, role from memberships where org_id = $1 and user_id = $2`,
        [orgId, userId],
      );
      return { orgId, userId, ...rows[0] };
    };
    const { rows: after } = await c.query<{ id: string }>(
      `select id from messages where thread_id = $1 and seq = greatest($2::int - 3, 1)`,
      [heavy.threadId, heavy.messages],
    );
    return {
      reader: await load(heavy.orgId, heavy.userId),
      lister: await load(busy.orgId, busy.userId),
      afterId: after[0]?.id ?? null,
    };
  });

  const client = new Client({ connectionString: appUrl(ownerUrl) });
  await client.connect();
  const summaries: PlanSummary[] = [];
  try {
    const explain = async (
      name: string,
      description: string,
      subject: Subject,
      query: SqlQuery,
    ): Promise<void> => {
      let text = '';
      for (let i = 0; i < 2; i++) {
        await client.query('begin');
        try {
          await client.query(
            `select set_config('app.org_id', $1, true), set_config('app.user_id', $2, true)`,
            [subject.orgId, subject.userId],
          );
          const { rows } = await client.query<{ 'QUERY PLAN': string }>(
            `explain (analyze, buffers) ${positional(query.sql)}`,
            query.params,
          );
          text = rows.map((r) => r['QUERY PLAN']).join('\n');
        } finally {
          await client.query('rollback');
        }
      }
      const executionMs = Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1] ?? NaN);
      const planningMs = Number(/Planning Time: ([\d.]+) ms/.exec(text)?.[1] ?? NaN);
      const top = /Buffers: shared((?: \w+=\d+)+)/.exec(text)?.[1] ?? '';
      const buffers = [...top.matchAll(/(hit|read)=(\d+)/g)].reduce((s, m) => s + Number(m[2]), 0);
      const seqScans = [...text.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1]);
      summaries.push({ name, planningMs, executionMs, buffers, seqScans });
      const params = JSON.stringify(
        query.params.map((p) => (Buffer.isBuffer(p) ? `\\x${p.toString('hex')}` : p)),
      );
      writeFileSync(
        join(dir, `${name}.txt`),
        [
          `-- ${name}: ${description}`,
          `-- data set: ${label}`,
          `-- run as rm_app in a transaction with app.org_id set; second (warm) run of two`,
          '',
          query.sql.replace(/\n\s*\n/g, '\n').trim(),
          '',
          `-- parameters: ${params}`,
          '',
          text,
          '',
        ].join('\n'),
      );
    };

    const { reader, lister } = subjects;
    const [ctxRow] = (
      await withTenant(client, reader, MessageQueries.viewer(heavy.threadId, reader.userId))
    ).rows as ViewerRow[];
    const ctx = toContext(ctxRow, reader);
    await explain(
      'enter-tenant',
      'first statement of every request (TenantRunner.runAsMember)',
      reader,
      enterTenantQuery(
        {
          orgId: reader.orgId,
          userId: reader.userId,
          name: reader.name,
          role: reader.role as PrincipalRole,
        },
        true,
      ),
    );
    await explain(
      'viewer',
      'after: the viewer context (MessageQueries.viewer), longest thread',
      reader,
      MessageQueries.viewer(heavy.threadId, reader.userId),
    );
    await explain(
      'thread-one',
      'thread page: the thread row with its preview and viewer state (ThreadQueries.one), longest thread',
      reader,
      ThreadQueries.one(heavy.threadId, reader.userId),
    );
    await explain(
      'page-latest',
      `thread page: the latest ${DEFAULT_MESSAGE_PAGE} + 1 messages (MessageQueries.page), longest thread`,
      reader,
      MessageQueries.page(ctx, {}, DEFAULT_MESSAGE_PAGE + 1),
    );
    if (subjects.afterId) {
      const cursor = MessageQueries.visibleSeq(ctx, subjects.afterId);
      await explain(
        'visible-seq',
        'after: the cursor message (MessagesRepository.visibleSeq)',
        reader,
        cursor,
      );
      await explain(
        'page-after',
        `after: the messages after a recent one (MessageQueries.page, limit ${DEFAULT_MESSAGE_PAGE}), longest thread`,
        reader,
        MessageQueries.page(
          ctx,
          { afterSeq: Math.max(heavy.messages - 3, 1) },
          DEFAULT_MESSAGE_PAGE,
        ),
      );
    }
    await explain(
      'thread-list',
      `thread list: first page (ThreadQueries.list, limit ${pageLimit(undefined) + 1}), member with the most threads`,
      lister,
      ThreadQueries.list(lister.orgId, lister.userId, pageLimit(undefined) + 1, null),
    );
    await explain(
      'unread-count',
      'unread count (MessageQueries.unreadCount), member with the most threads',
      lister,
      MessageQueries.unreadCount(lister.orgId, lister.userId),
    );
    const body = 'Plan check: is the elevator fixed?';
    await explain(
      'send',
      'send (rm_send_message, one call: idempotency, lock, insert, participants, outbox); rolled back',
      reader,
      MessageQueries.send({
        threadId: heavy.threadId,
        senderId: reader.userId,
        body,
        clientMessageId: `plan-${randomUUID()}`,
        hash: requestHash(body),
        first: false,
      }),
    );
  } finally {
    await client.end();
  }
  return summaries;
}

async function withTenant(client: Client, subject: Subject, query: SqlQuery) {
  await client.query('begin');
  try {
    await client.query(`select set_config('app.org_id', $1, true)`, [subject.orgId]);
    return await client.query(positional(query.sql), query.params);
  } finally {
    await client.query('rollback');
  }
}

function toContext(row: ViewerRow, me: Subject): ViewerContext {
  return toViewerContext(row, {
    userId: me.userId,
    displayName: me.name,
    role: me.role as 'resident',
    readReceipts: true,
    receiptsSince: new Date(0),
  });
}

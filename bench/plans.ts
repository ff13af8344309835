import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { MessageQueries, ThreadQueries } from '../src/conversations/conversations.queries';
import { DEFAULT_MESSAGE_PAGE } from '../src/conversations/dto/messages.query';
import { pageLimit } from '../src/platform/http/pagination';
import { requestHash } from '../src/conversations/idempotency';
import { loadAutoExplain } from './auto-explain';
import { positional, withOwner } from './db';
import { routeStatement, type RouteCall } from '../src/platform/tenancy/tenant-runner.service';
import type { PrincipalRole } from '../src/platform/auth/principal';
import type { Fixtures } from './fixtures';

export interface PlanSummary {
  name: string;
  /** Planning time of the statement (0 for a route function: its statements are planned once). */
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
 * The plans of every hot route's statement (each is one call of its rm_api_… function) with the
 * statements it runs inside PostgreSQL (auto_explain: analyze, buffers, nested), as the app role,
 * rolled back (the send really runs), against the worst cases of the data set: the longest thread
 * (page, `after`) and the member with the most threads (list, unread). Each runs twice and the
 * second (warm) run is kept. Writes one text file per route under `dir` and returns the figures
 * (the call's duration and buffers, which include its inner statements; no planning time: the
 * functions' statements are planned once per session).
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

  // auto_explain needs a superuser to load; each statement then runs as the app role.
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  const notices: string[] = [];
  client.on('notice', (n) => {
    if (n.message?.includes('plan:')) notices.push(n.message);
  });
  await loadAutoExplain(client, { analyze: true, buffers: true, format: 'text' });
  await client.query('set role rm_app');
  const summaries: PlanSummary[] = [];
  try {
    const explain = async (
      name: string,
      description: string,
      subject: Subject,
      route: RouteCall,
    ): Promise<void> => {
      const principal = {
        orgId: subject.orgId,
        userId: subject.userId,
        name: subject.name,
        role: subject.role as PrincipalRole,
      };
      const query = routeStatement(principal, true, undefined, null, route);
      let plans: string[] = [];
      for (let i = 0; i < 2; i++) {
        notices.length = 0;
        await client.query('begin');
        try {
          await client.query(positional(query.sql), query.params);
        } finally {
          await client.query('rollback');
        }
        plans = [...notices];
      }
      // The last notice is the call itself (its duration and buffers include the statements it
      // ran); the others are the statements inside the functions, in the order they finished.
      const outer = plans[plans.length - 1] ?? '';
      const executionMs = Number(/duration: ([\d.]+) ms/.exec(outer)?.[1] ?? NaN);
      const top = /Buffers: shared((?: \w+=\d+)+)/.exec(outer)?.[1] ?? '';
      const buffers = [...top.matchAll(/(hit|read)=(\d+)/g)].reduce((s, m) => s + Number(m[2]), 0);
      const seqScans = plans.flatMap((t) => [...t.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1]));
      summaries.push({ name, planningMs: 0, executionMs, buffers, seqScans });
      const params = JSON.stringify(
        query.params.map((p) => (Buffer.isBuffer(p) ? `\\x${p.toString('hex')}` : p)),
      );
      writeFileSync(
        join(dir, `${name}.txt`),
        [
          `-- ${name}: ${description}`,
          `-- data set: ${label}`,
          `-- run as rm_app outside BEGIN (one statement, as the route runs it), then rolled back;`,
          `-- auto_explain (analyze, buffers, nested statements); second (warm) run of two`,
          '',
          query.sql.replace(/\n\s*\n/g, '\n').trim(),
          '',
          `-- parameters: ${params}`,
          '',
          ...plans.map((t) => t.trim() + '\n'),
        ].join('\n'),
      );
    };

    const { reader, lister } = subjects;
    await explain(
      'thread-view',
      `thread page (rm_api_message_page with the thread: the thread and its latest ${DEFAULT_MESSAGE_PAGE} messages), longest thread`,
      reader,
      MessageQueries.threadView(heavy.threadId, DEFAULT_MESSAGE_PAGE),
    );
    if (subjects.afterId) {
      await explain(
        'page-after',
        `after: the messages after a recent one (rm_api_message_page, limit ${DEFAULT_MESSAGE_PAGE}), longest thread`,
        reader,
        MessageQueries.messagePage(
          heavy.threadId,
          { after: subjects.afterId },
          DEFAULT_MESSAGE_PAGE,
        ),
      );
    }
    await explain(
      'thread-list',
      `thread list: first page (rm_api_thread_list, limit ${pageLimit(undefined)}), member with the most threads`,
      lister,
      ThreadQueries.list(null, pageLimit(undefined)),
    );
    await explain(
      'unread-count',
      'unread count (rm_api_unread_count), member with the most threads',
      lister,
      MessageQueries.unreadCountAs(),
    );
    const body = 'Plan check: is the elevator fixed?';
    await explain(
      'send',
      'send (rm_api_send_message: the tenant entry, then rm_send_message: idempotency, lock, insert, participants, outbox); rolled back',
      reader,
      MessageQueries.sendAs({
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

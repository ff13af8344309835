import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { MessageQueries, ThreadQueries } from '../../src/conversations/conversations.queries';
import type { Principal } from '../../src/platform/auth/principal';
import { routeStatement, type RouteCall } from '../../src/platform/tenancy/tenant-runner.service';
import { urlFor } from '../support/env';
import { explainAsApp, explainNestedAsApp, planNodes, seqScansOn } from '../support/explain';
import { startTestApp, type TestApp } from '../support/test-app';

const USERS = 400;
const THREADS = 2000;
const PER_THREAD = 50; // 100k messages

/**
 * One org with 100k messages, seeded with plain SQL as the owner: 400 members, 2000 direct
 * threads of 50 messages each, both participants' state and read history.
 */
async function seed(database: string, org: string): Promise<void> {
  const owner = new Client({ connectionString: urlFor(database) });
  await owner.connect();
  try {
    const statements = [
      `create temp table seed_users as
         select n, gen_random_uuid() as id from generate_series(0, ${USERS - 1}) n`,
      `insert into orgs (id) values ('${org}')`,
      `insert into users (id) select id from seed_users`,
      `insert into memberships (org_id, user_id, display_name, role)
         select '${org}', id, 'Seed member ' || n, 'resident' from seed_users`,
      `create temp table seed_threads as
         select j, gen_random_uuid() as id, a.id as ua, b.id as ub
           from generate_series(0, ${THREADS - 1}) j
           join seed_users a on a.n = j % ${USERS}
           join seed_users b on b.n = (j % ${USERS} + 1 + j / ${USERS}) % ${USERS}`,
      `insert into message_threads (id, org_id, kind, user_low, user_high, created_by, created_at,
                                    last_seq, last_message_at)
         select id, '${org}', 'direct', least(ua, ub), greatest(ua, ub), ua,
                now() - interval '30 days', ${PER_THREAD}, now() - j * interval '1 minute'
           from seed_threads`,
      `insert into thread_participants (org_id, thread_id, user_id, other_user_id, blocks_other,
                                        listed, last_read_seq, last_read_at, unread_count,
                                        last_visible_seq, last_message_at, activity_at)
         select '${org}', s.id, p.me, p.other, false, true, ${PER_THREAD - 10}, now(),
                case when p.me = s.ua then 0 else 10 end, ${PER_THREAD},
                now() - s.j * interval '1 minute', now() - s.j * interval '1 minute'
           from seed_threads s cross join lateral (values (s.ua, s.ub), (s.ub, s.ua)) p(me, other)`,
      `insert into messages (id, org_id, thread_id, seq, sender_id, body, withheld, created_at)
         select gen_random_uuid(), '${org}', s.id, q, case when q % 2 = 0 then s.ua else s.ub end,
                'Seed message number ' || q, false,
                now() - interval '30 days' + q * interval '1 second'
           from seed_threads s cross join generate_series(1, ${PER_THREAD}) q`,
      `insert into message_reads (org_id, thread_id, reader_id, from_seq, to_seq, read_at)
         select '${org}', s.id, p.me, r.from_seq, r.to_seq, now() - (10 - r.k) * interval '1 hour'
           from seed_threads s
           cross join lateral (values (s.ua), (s.ub)) p(me)
           cross join lateral (select k, (k - 1) * 4 as from_seq, k * 4 as to_seq
                                 from generate_series(1, 10) k) r`,
      `analyze`,
    ];
    for (const sql of statements) await owner.query(sql);
  } finally {
    await owner.end();
  }
}

describe('the hot queries are index-backed (100k messages)', () => {
  let t: TestApp;
  const org = randomUUID();
  let userId: string;
  let otherId: string;
  let threadId: string;
  let activityKey: string;
  let beforeId: string;
  let afterId: string;

  beforeAll(async () => {
    t = await startTestApp();
    await seed(t.database, org);
    const owner = new Client({ connectionString: urlFor(t.database) });
    await owner.connect();
    try {
      const { rows } = await owner.query<{
        user_id: string;
        other_user_id: string;
        thread_id: string;
        key: string;
        total: number;
      }>(
        `select tp.user_id, tp.other_user_id, tp.thread_id,
                to_char(tp.activity_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as key,
                (select count(*)::int from messages) as total
           from thread_participants tp where tp.org_id = $1 and tp.unread_count > 0
          order by tp.activity_at desc limit 1`,
        [org],
      );
      expect(rows[0].total).toBeGreaterThanOrEqual(100_000);
      ({
        user_id: userId,
        other_user_id: otherId,
        thread_id: threadId,
        key: activityKey,
      } = rows[0]);
    } finally {
      await owner.end();
    }
    beforeId = await messageId(30);
    afterId = await messageId(10);
  }, 120_000);
  afterAll(() => t.close());

  it('the unread count has no sequential scan (the bare statement the bench floor also runs)', async () => {
    const plan = await explainAsApp(t.database, org, MessageQueries.unreadCount(org, userId));
    expect(seqScansOn(plan, ['messages', 'thread_participants', 'message_reads'])).toEqual([]);
  });

  it('the route functions answer the seeded viewer (as the app role)', async () => {
    const client = new Client({
      connectionString: urlFor(t.database, { name: 'rm_app', password: 'rm_app' }),
    });
    await client.connect();
    try {
      const call = async (route: RouteCall) => {
        const q = routeStatement(member(), false, undefined, null, route);
        let n = 0;
        const sql = q.sql.replace(/\?/g, () => `$${++n}`);
        return (await client.query(sql, q.params)).rows[0] as Record<string, unknown>;
      };
      const view = JSON.parse((await call(MessageQueries.threadView(threadId, 50))).body as string);
      expect(view.thread).toEqual(expect.objectContaining({ id: threadId }));
      expect(view.messages.data).toHaveLength(PER_THREAD);
      const list = JSON.parse((await call(ThreadQueries.list(null, 20))).body as string);
      // Each seeded member takes part in 2 × THREADS / USERS threads.
      expect(list.data).toHaveLength((2 * THREADS) / USERS);
      expect(list.data[0].id).toBe(threadId);
      // Blocking the other hides their messages (every other one here).
      await client.query('begin');
      await client.query(`select set_config('app.org_id', $1, true)`, [org]);
      const party = (id: string) => [id, 'Seed member', 'resident', true, new Date(0)];
      const { rows } = await client.query<{ page: { data: unknown[] } }>(
        `select rm_message_page($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, true, null, null, 50) as page`,
        [threadId, ...party(userId), ...party(otherId)],
      );
      expect(rows[0].page.data).toHaveLength(PER_THREAD / 2);
      await client.query('rollback');
    } finally {
      await client.end();
    }
  });

  // The routes that are one function (rm_api_…): every statement they run inside PostgreSQL.
  const member = (): Principal => ({ orgId: org, userId, role: 'resident', name: null });
  const entry = () => [org, userId, null, null, false, null, null];
  const route = (call: RouteCall): [string, unknown[]] => {
    const q = routeStatement(member(), false, undefined, null, call);
    return [q.sql, q.params];
  };
  const messageId = async (seq: number) => {
    const owner = new Client({ connectionString: urlFor(t.database) });
    await owner.connect();
    try {
      const { rows } = await owner.query<{ id: string }>(
        'select id from messages where thread_id = $1 and seq = $2',
        [threadId, seq],
      );
      return rows[0].id;
    } finally {
      await owner.end();
    }
  };
  const functionCases: [string, () => [string, unknown[]], string[]][] = [
    [
      'rm_api_unread_count',
      () => [`select * from rm_api_unread_count(?, ?, ?, ?, ?, ?, ?)`, entry()],
      ['thread_participants_unread_idx'],
    ],
    [
      'rm_api_send_message',
      () => [
        `select * from rm_api_send_message(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [...entry(), threadId, 'Planned, then rolled back', null, Buffer.alloc(32), false],
      ],
      // Both participants are read with their memberships in one statement (issue 17).
      [
        'message_threads_pkey',
        'thread_participants_pkey',
        'messages_thread_seq_key',
        'memberships_pkey',
      ],
    ],
    [
      'rm_api_message_page (the thread view)',
      () => route(MessageQueries.threadView(threadId, 50)),
      ['thread_participants_pkey', 'messages_thread_seq_key', 'message_reads_pkey'],
    ],
    [
      'rm_api_message_page (before a message)',
      () => route(MessageQueries.messagePage(threadId, { before: beforeId }, 50)),
      ['messages_pkey', 'messages_thread_seq_key', 'message_reads_pkey'],
    ],
    [
      'rm_api_message_page (after a message: polling)',
      () => route(MessageQueries.messagePage(threadId, { after: afterId }, 50)),
      ['messages_pkey', 'messages_thread_seq_key', 'message_reads_pkey'],
    ],
    [
      'rm_api_thread_list (first page)',
      () => route(ThreadQueries.list(null, 20)),
      ['thread_participants_list_idx', 'thread_participants_pkey', 'messages_thread_seq_key'],
    ],
    [
      'rm_api_thread_list (a later page)',
      () => route(ThreadQueries.list([activityKey, threadId], 20)),
      ['thread_participants_list_idx', 'thread_participants_pkey'],
    ],
  ];

  it.each(functionCases)(
    '%s runs no sequential scan on messages, thread_participants, message_reads or memberships (auto_explain)',
    async (_name, build, expected) => {
      const [sql, params] = build();
      const plans = await explainNestedAsApp(t.database, sql, params);
      // The nested statements are there: the tenant entry's (the membership, by its key) and the
      // route's own.
      expect(plans.length).toBeGreaterThanOrEqual(2);
      const scans = plans.flatMap((plan) =>
        seqScansOn(plan, ['messages', 'thread_participants', 'message_reads', 'memberships']),
      );
      expect(scans).toEqual([]);
      const indexes = new Set(
        plans
          .flatMap(planNodes)
          .map((n) => n['Index Name'])
          .filter(Boolean),
      );
      expect([...indexes]).toEqual(expect.arrayContaining(['memberships_pkey', ...expected]));
    },
  );
});

import type { Client } from 'pg';
import { withOwner } from './db';

export interface SeedSize {
  orgs: number;
  membersPerOrg: number;
  threadsPerOrg: number;
  messages: number;
}

export interface SeedStats {
  orgs: number;
  members: number;
  threads: number;
  messages: number;
  participants: number;
  reads: number;
  blocks: number;
  notifications: number;
  longestThread: number;
  seconds: number;
}

/**
 * Seeds the members (orgs, users, memberships) of the bench data set, as the owner. Member k of
 * an org is named `Member <org>-<k>`: index 0 is the org admin, 1..4 are managers, the rest are
 * residents; a few are hidden (2 %), have receipts off (5 %) or are inactive (1 %).
 */
export async function seedMembers(ownerUrl: string, size: SeedSize): Promise<void> {
  await withOwner(ownerUrl, async (c) => {
    await session(c);
    await c.query('begin');
    await c.query(
      `create temp table seed_members on commit drop as
         select o.no as org_no, o.id as org_id, i as idx, gen_random_uuid() as user_id
           from (select no, gen_random_uuid() as id from generate_series(1, $1::int) no) o,
                generate_series(0, $2::int - 1) i`,
      [size.orgs, size.membersPerOrg],
    );
    const since = `now() - interval '200 days'`;
    await c.query(
      `insert into orgs (id, created_at) select distinct org_id, ${since} from seed_members`,
    );
    await c.query(`insert into users (id, created_at) select user_id, ${since} from seed_members`);
    await c.query(`
      insert into memberships (org_id, user_id, display_name, role, visibility, read_receipts,
                               receipts_since, active, created_at, updated_at)
      select org_id, user_id, format('Member %s-%s', org_no, lpad(idx::text, 4, '0')),
             case when idx = 0 then 'org_admin' when idx <= 4 then 'manager' else 'resident' end,
             case when idx > 4 and idx % 50 = 7 then 'hidden' else 'visible' end,
             idx % 20 <> 3, ${since}, idx % 100 <> 99, ${since}, ${since}
        from seed_members`);
    await c.query('commit');
  });
}

/** Removes every conversation (threads, messages, reads, blocks, outbox, notifications). */
export async function clearConversations(ownerUrl: string): Promise<void> {
  await withOwner(ownerUrl, (c) =>
    c.query(`truncate message_threads, thread_participants, messages, message_reads, user_blocks,
                      outbox_events, event_consumers, notifications`),
  );
}

/**
 * Seeds conversations between the existing members, set-based, keeping every invariant the
 * service relies on:
 * - threads: `threadsPerOrg` distinct pairs per org, drawn with a skew so that a few members
 *   (low indexes: admins, managers) take part in many threads and most in a handful;
 * - messages: `messages` in all, spread over the threads log-normally (3 % of threads empty, the
 *   median about 0.6 x the mean, the longest ~30 x the mean); seq 1..n per thread, created_at increasing with
 *   seq, UUIDv7 ids whose time is created_at; ~70 % carry a clientMessageId, ~1 % are tombstones;
 * - blocks: ~1 % of the threads have one participant blocking the other (the blocked one's later
 *   messages withheld), plus a few blocks between members who share no thread;
 * - thread_participants: last_read_seq (own last message at least, mostly caught up, some unread),
 *   unread_count, last_visible_seq / last_message_at / activity_at of the newest visible message,
 *   blocks_other mirroring user_blocks, listed;
 * - message_reads: contiguous ranges from 0 up to each read pointer;
 * - notifications: one open message.received per participant with unread messages.
 * Then ANALYZE.
 */
export async function seedConversations(ownerUrl: string, size: SeedSize): Promise<SeedStats> {
  const started = Date.now();
  await withOwner(ownerUrl, async (client) => {
    await session(client);
    const c = timed(client);
    await c.query('begin');
    // The rows are consistent by construction (the smoke test checks the invariants): skip the
    // per-row foreign-key triggers while loading, as a superuser may.
    if (await isSuperuser(client)) await c.query('set local session_replication_role = replica');
    await c.query(`
      create temp table seed_people on commit drop as
        select org_id, user_id, active,
               row_number() over (partition by org_id order by display_name) - 1 as idx
          from memberships`);
    await c.query('analyze seed_people');
    // Weighted sampling without replacement (key = u^(1/w)): low indexes weigh more.
    await c.query(
      `create temp table seed_pairs on commit drop as
         select a.org_id, a.user_id as ua, b.user_id as ub,
                power(random(), sqrt((a.idx + 1.0) * (b.idx + 1.0)) ^ 0.6) as key
           from seed_people a join seed_people b on b.org_id = a.org_id and b.idx > a.idx`,
    );
    await c.query(
      `create temp table seed_threads on commit drop as
         select org_id, least(ua, ub) as user_low, greatest(ua, ub) as user_high,
                gen_random_uuid() as id, 0 as n,
                -- log-normal message counts (median ~0.6 x mean), 3 % of threads empty
                case when random() < 0.03 then 0
                     else exp(sqrt(-2 * ln(1.0 - random())) * cos(2 * pi() * random())) end as weight,
                random() < 0.01 as blocked, random() < 0.5 as low_blocks,
                random() as block_point, random() < 0.5 as low_started,
                now() - interval '180 days' + random() * interval '170 days' as start_at,
                random() as length
           from (select p.*, row_number() over (partition by org_id order by key desc) as r
                   from seed_pairs p) ranked
          where r <= $1`,
      [size.threadsPerOrg],
    );
    // Message counts proportional to the weights, summing to exactly `messages`.
    await c.query(
      `with base as (
         select id, floor($1::bigint * weight / sum(weight) over ())::int as n,
                $1::bigint * weight / sum(weight) over () as exact from seed_threads
       ), ranked as (
         select id, n, row_number() over (order by exact - n desc) as r, sum(n) over () as total
           from base
       )
       update seed_threads t set n = ranked.n + case when ranked.r <= $1 - ranked.total then 1 else 0 end
         from ranked where ranked.id = t.id`,
      [size.messages],
    );
    // The thread ends somewhere between its start and an hour ago.
    await c.query(`
      alter table seed_threads add column end_at timestamptz, add column block_at timestamptz,
        add column blocker uuid, add column blocked_user uuid`);
    await c.query(`
      update seed_threads set
        end_at = start_at + (now() - interval '1 hour' - start_at) * (0.05 + 0.95 * length),
        blocker = case when not blocked then null when low_blocks then user_low else user_high end,
        blocked_user = case when not blocked then null when low_blocks then user_high else user_low end`);
    await c.query(
      `update seed_threads set block_at = start_at + (end_at - start_at) * block_point where blocked`,
    );
    // Thread ids are UUIDv7 of the thread's creation, as the service makes them.
    await c.query(
      `update seed_threads set id = pg_temp.rm_bench_uuid(start_at - interval '1 minute')`,
    );

    await c.query(`
      create temp table seed_messages on commit drop as
        select t.id as thread_id, t.org_id, s.seq,
               case when random() < 0.5 then t.user_low else t.user_high end as sender_id,
               t.start_at + (t.end_at - t.start_at) * ((s.seq - 0.9 * random()) / t.n) as created_at,
               random() < 0.01 as deleted, random() < 0.7 as keyed,
               (array['Hi! Are you home tonight?', 'The elevator is out of order again.',
                      'Thanks, see you at the meeting.', 'Could you water my plants this weekend? I am away until Monday.',
                      'Package for you at the front desk.', 'ok', 'Sure, no problem 👍',
                      'The heating in 4B makes a loud noise every night around 2 am, could someone take a look?',
                      'Reminder: the bike room is being cleaned on Thursday, please move your bikes before 9.',
                      'Got it.', 'Is the parking spot still available?', 'Happy new year to you and your family!'])
                 [1 + floor(random() * 12)::int] || ' #' || s.seq as body,
               t.blocked as in_blocked_thread, t.blocked_user, t.block_at
          from seed_threads t, generate_series(1, t.n) s(seq)`);
    await c.query(`alter table seed_messages add column withheld boolean`);
    await c.query(`
      update seed_messages set withheld = coalesce(in_blocked_thread and sender_id = blocked_user
                                                   and created_at > block_at, false)`);
    await c.query('analyze seed_threads');
    await c.query('analyze seed_messages');

    await c.query(`
      insert into message_threads (id, org_id, kind, user_low, user_high, created_by, created_at,
                                   last_seq, last_message_at)
      select t.id, t.org_id, 'direct', t.user_low, t.user_high,
             case when t.low_started then t.user_low else t.user_high end,
             t.start_at - interval '1 minute', t.n, m.created_at
        from seed_threads t left join seed_messages m on m.thread_id = t.id and m.seq = t.n`);
    await withoutIndexes(client, 'messages', async () => {
      await c.query(`
        insert into messages (id, org_id, thread_id, seq, sender_id, body, client_message_id,
                              request_hash, withheld, created_at, deleted_at)
        select pg_temp.rm_bench_uuid(m.created_at), m.org_id, m.thread_id, m.seq, m.sender_id,
               case when m.deleted then null else m.body end,
               case when m.keyed then 'seed-' || m.thread_id || '-' || m.seq end,
               sha256(convert_to(m.body, 'UTF8')), m.withheld, m.created_at,
               case when m.deleted then m.created_at + interval '1 minute' end
          from seed_messages m order by m.created_at`);
    });

    await c.query(`
      insert into user_blocks (org_id, blocker_id, blocked_id, created_at)
      select org_id, blocker, blocked_user, block_at from seed_threads where blocked`);
    // A few blocks between members who share no thread.
    await c.query(`
      insert into user_blocks (org_id, blocker_id, blocked_id, created_at)
      select org_id, ua, ub, now() - interval '30 days' * random()
        from (select p.*, row_number() over (partition by p.org_id order by p.key) as r
                from seed_pairs p
               where not exists (select 1 from seed_threads t
                                  where t.org_id = p.org_id and t.user_low = least(p.ua, p.ub)
                                    and t.user_high = greatest(p.ua, p.ub))) x
       where r <= 5`);

    // Per participant: how far they read (k messages from the end: mostly 0), in ranges of `step`.
    await c.query(`
      create temp table seed_parts on commit drop as
        select t.id as thread_id, t.org_id, u.user_id, u.other_id, t.n,
               t.start_at - interval '1 minute' as thread_created,
               coalesce(t.blocker = u.user_id, false) as blocks_other,
               case when random() < 0.75 then 0 else 1 + floor(random() * random() * 12)::int end as k,
               1 + floor(random() * 8)::int as step,
               0 as last_read_seq, 0 as unread_count, null::int as last_visible_seq,
               null::timestamptz as last_message_at
          from seed_threads t
          cross join lateral (values (t.user_low, t.user_high), (t.user_high, t.user_low)) u(user_id, other_id)`);
    await c.query(`
      update seed_parts p set
        last_read_seq = coalesce(greatest(a.own_last, a.read_upto), 0),
        last_visible_seq = a.visible_last,
        last_message_at = a.visible_at
      from (
        select p.thread_id, p.user_id,
               max(m.seq) filter (where m.sender_id = p.user_id) as own_last,
               max(m.seq) filter (where m.seq <= p.n - p.k
                                    and (m.sender_id = p.user_id or not m.withheld)) as read_upto,
               max(m.seq) filter (where m.sender_id = p.user_id
                                    or (not m.withheld and not p.blocks_other)) as visible_last,
               max(m.created_at) filter (where m.sender_id = p.user_id
                                    or (not m.withheld and not p.blocks_other)) as visible_at
          from seed_parts p join seed_messages m on m.thread_id = p.thread_id
         group by p.thread_id, p.user_id
      ) a
      where a.thread_id = p.thread_id and a.user_id = p.user_id`);
    await c.query(`
      update seed_parts p set unread_count = a.unread
        from (
          select p.thread_id, p.user_id, count(*)::int as unread
            from seed_parts p join seed_messages m on m.thread_id = p.thread_id
           where not p.blocks_other and m.seq > p.last_read_seq and m.sender_id <> p.user_id
             and not m.withheld and not m.deleted
           group by p.thread_id, p.user_id
        ) a
       where a.thread_id = p.thread_id and a.user_id = p.user_id`);
    await c.query('analyze seed_parts');

    await c.query(`
      create temp table seed_reads on commit drop as
        select p.org_id, p.thread_id, p.user_id as reader_id, g.from_seq,
               least(g.from_seq + p.step, p.last_read_seq) as to_seq
          from seed_parts p, generate_series(0, p.last_read_seq - 1, p.step) g(from_seq)
         where p.last_read_seq > 0`);
    await withoutIndexes(client, 'message_reads', async () => {
      await c.query(`
        insert into message_reads (org_id, thread_id, reader_id, from_seq, to_seq, read_at)
        select r.org_id, r.thread_id, r.reader_id, r.from_seq, r.to_seq,
               m.created_at + interval '2 minutes'
          from seed_reads r join seed_messages m on m.thread_id = r.thread_id and m.seq = r.to_seq`);
    });

    await c.query(`
      insert into thread_participants (org_id, thread_id, user_id, other_user_id, blocks_other,
                                       listed, last_read_seq, last_read_at, unread_count,
                                       last_visible_seq, last_message_at, activity_at)
      select p.org_id, p.thread_id, p.user_id, p.other_id, p.blocks_other, true, p.last_read_seq,
             case when p.last_read_seq > 0 then m.created_at + interval '2 minutes' end,
             p.unread_count, p.last_visible_seq, p.last_message_at,
             coalesce(p.last_message_at, p.thread_created)
        from seed_parts p
        left join seed_messages m on m.thread_id = p.thread_id and m.seq = p.last_read_seq`);

    await c.query(`
      insert into notifications (org_id, user_id, type, thread_id, actor_id, count, created_at, updated_at)
      select p.org_id, p.user_id, 'message.received', p.thread_id, p.other_id, p.unread_count,
             p.last_message_at, p.last_message_at
        from seed_parts p where p.unread_count > 0`);

    // The outbox as a running service holds it: its last hour of events (pruning keeps an hour),
    // published, every consumer done. Without it the outbox tables start empty, and the plans
    // PostgreSQL caches in each connection for the relay, the pump and the consumers are those of
    // empty tables (sequential scans) for as long as nothing analyzes them again: on a server with
    // autovacuum off (this machine's CI configuration) that is the whole run.
    await c.query(`
      create temp table seed_history on commit drop as
        select pg_temp.rm_bench_uuid(h.at) as id, h.org_id, h.thread_id, h.id as message_id,
               h.sender_id, h.seq, h.at
          from (select m.*, now() - interval '55 minutes' * random() as at
                  from messages m order by m.created_at desc limit ${historyEvents(size)}) h`);
    await c.query(`
      insert into outbox_events (id, org_id, type, thread_id, message_id, actor_id, seq, data,
                                 created_at, published_at)
      select id, org_id, 'message.created', thread_id, message_id, sender_id, seq, '{}'::jsonb,
             at, at + interval '50 milliseconds'
        from seed_history order by at`);
    await c.query(`
      insert into event_consumers (event_id, org_id, consumer, created_at, next_attempt_at,
                                   attempts, done_at)
      select h.id, h.org_id, k.consumer, h.at, h.at, 1, h.at + interval '100 milliseconds'
        from seed_history h cross join (values ('events'), ('notifications')) k(consumer)`);
    await c.query('commit');
  });
  await analyze(ownerUrl);
  const stats = await dataSetStats(ownerUrl);
  return { ...stats, seconds: (Date.now() - started) / 1000 };
}

export async function analyze(ownerUrl: string): Promise<void> {
  await withOwner(ownerUrl, (c) => c.query('vacuum analyze'));
}

export async function dataSetStats(ownerUrl: string): Promise<Omit<SeedStats, 'seconds'>> {
  return withOwner(ownerUrl, async (c) => {
    const { rows } = await c.query<Record<keyof Omit<SeedStats, 'seconds'>, string>>(`
      select (select count(*) from orgs) as orgs,
             (select count(*) from memberships) as members,
             (select count(*) from message_threads) as threads,
             (select count(*) from messages) as messages,
             (select count(*) from thread_participants) as participants,
             (select count(*) from message_reads) as reads,
             (select count(*) from user_blocks) as blocks,
             (select count(*) from notifications) as notifications,
             (select coalesce(max(last_seq), 0) from message_threads) as "longestThread"`);
    const r = rows[0];
    return {
      orgs: Number(r.orgs),
      members: Number(r.members),
      threads: Number(r.threads),
      messages: Number(r.messages),
      participants: Number(r.participants),
      reads: Number(r.reads),
      blocks: Number(r.blocks),
      notifications: Number(r.notifications),
      longestThread: Number(r.longestThread),
    };
  });
}

/**
 * Session settings for bulk loading, and a UUIDv7 whose time part is the given instant (the same
 * bit layout as rm_uuid_v7(), which takes the clock instead), as a temporary function.
 */
async function session(c: Client): Promise<void> {
  await c.query(`set work_mem = '256MB'`);
  await c.query(`set maintenance_work_mem = '512MB'`);
  await c.query(`set synchronous_commit = off`);
  await c.query(`
    create or replace function pg_temp.rm_bench_uuid(ts timestamptz) returns uuid
    language sql volatile as $$
      select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing
        substring(int8send(floor(extract(epoch from ts) * 1000)::bigint) from 3)
        from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
    $$`);
}

/** Logs each statement's duration when BENCH_DEBUG is set. */
function timed(client: Client): { query: (sql: string, params?: unknown[]) => Promise<unknown> } {
  const debug = Boolean(process.env.BENCH_DEBUG);
  return {
    async query(sql, params) {
      const t = Date.now();
      await client.query(sql, params);
      if (debug) {
        const what = sql.trim().split('\n')[0].slice(0, 90);
        process.stderr.write(`  seed ${String(Date.now() - t).padStart(6)} ms  ${what}\n`);
      }
    },
  };
}

/**
 * Bulk loading is much faster into a table without indexes: drops the table's indexes (those
 * backing primary keys and unique constraints too, unless a foreign key depends on them), runs
 * `load`, and recreates each from its own catalog definition, in the same transaction.
 */
async function withoutIndexes(c: Client, table: string, load: () => Promise<void>): Promise<void> {
  const { rows: constraints } = await c.query<{ name: string; def: string }>(
    `select k.conname as name, pg_get_constraintdef(k.oid) as def from pg_constraint k
      where k.conrelid = $1::regclass and k.contype in ('p', 'u')
        and not exists (select 1 from pg_constraint f where f.contype = 'f' and f.conindid = k.conindid)`,
    [table],
  );
  const { rows: indexes } = await c.query<{ name: string; def: string }>(
    `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
       from pg_index i
      where i.indrelid = $1::regclass
        and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
    [table],
  );
  for (const k of constraints) await c.query(`alter table ${table} drop constraint ${k.name}`);
  for (const i of indexes) await c.query(`drop index ${i.name}`);
  await load();
  for (const k of constraints)
    await c.query(`alter table ${table} add constraint ${k.name} ${k.def}`);
  for (const i of indexes) await c.query(i.def);
}

async function isSuperuser(c: Client): Promise<boolean> {
  const { rows } = await c.query<{ su: boolean }>(
    'select rolsuper as su from pg_roles where rolname = current_user',
  );
  return rows[0]?.su ?? false;
}

/** The outbox's seeded history: an hour of a modest rate (28 events a second), fewer when small. */
export function historyEvents(size: SeedSize): number {
  return Math.min(100_000, Math.floor(size.messages / 2));
}

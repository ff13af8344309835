import { Client } from 'pg';
import { explainNestedStatements } from './auto-explain';

/**
 * Where a send's time goes inside PostgreSQL (issue 17, item 2): N calls of rm_api_send_message
 * by one client, each its own transaction, under auto_explain with nested statements and
 * log_analyze; prints each statement's inclusive milliseconds a send, largest first. The
 * instrumentation costs time of its own: compare shares, not absolute figures.
 *
 *   npm run build && node dist/bench/send-profile.js [N=1000] [owner URL of a bench database]
 */
interface Totals {
  calls: number;
  ms: number;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1000);
  const url = process.argv[3] ?? 'postgres://postgres@127.0.0.1:5432/rm_bench';
  const client = new Client({ connectionString: url });
  await client.connect();
  const { rows: senders } = await client.query<{ org: string; thread: string; user: string }>(
    `select tp.org_id as org, tp.thread_id as thread, tp.user_id as user
       from thread_participants tp
       join memberships me on me.org_id = tp.org_id and me.user_id = tp.user_id and me.active
       join memberships other on other.org_id = tp.org_id and other.user_id = tp.other_user_id
                             and other.active
      where not tp.blocks_other
        and not exists (select 1 from user_blocks b where b.org_id = tp.org_id
                           and b.blocker_id = tp.user_id and b.blocked_id = tp.other_user_id)
      order by random() limit $1`,
    [n],
  );
  const statements = await explainNestedStatements(client, { analyze: true });
  await client.query('set role rm_app');
  const started = Date.now();
  for (const s of senders) {
    await client.query(
      `select * from rm_api_send_message($1, $2, null, null, false, null, null, $3, 'profile', null,
                                         '\\x00'::bytea, false)`,
      [s.org, s.user, s.thread],
    );
  }
  console.log(`${senders.length} sends in ${Date.now() - started} ms (instrumented)`);
  const totals = new Map<string, Totals>();
  for (const { text, plan } of statements) {
    const statement = text.replace(/\s+/g, ' ').trim().slice(0, 100);
    const total = totals.get(statement) ?? { calls: 0, ms: 0 };
    total.calls++;
    total.ms += plan['Actual Total Time'] ?? 0;
    totals.set(statement, total);
  }
  for (const [statement, t] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    const perSend = (t.ms / senders.length).toFixed(3).padStart(7);
    const calls = (t.calls / senders.length).toFixed(1).padStart(4);
    console.log(`${perSend} ms a send  ×${calls}  ${statement}`);
  }
  await client.end();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

import { Client } from 'pg';
import type { SqlQuery } from '../../src/platform/tenancy/db.service';
import { explainNestedStatements } from '../../bench/auto-explain';
import { urlFor } from './env';

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** knex-style `?` placeholders to PostgreSQL's `$1..$n`, in order. */
export function positional(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Every node of a plan tree, depth first. */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** The sequential scans of `tables` anywhere in the plan, as "Node Type on relation". */
export function seqScansOn(plan: PlanNode, tables: string[]): string[] {
  return planNodes(plan)
    .filter((n) => n['Node Type'].includes('Seq Scan') && tables.includes(n['Relation Name'] ?? ''))
    .map((n) => `${n['Node Type']} on ${n['Relation Name']}`);
}

/**
 * EXPLAIN (FORMAT JSON) a production statement exactly as the service runs it: as the app role,
 * inside a transaction whose tenant is set, with its parameters bound.
 */
export async function explainAsApp(
  database: string,
  orgId: string,
  query: SqlQuery,
): Promise<PlanNode> {
  const client = new Client({
    connectionString: urlFor(database, { name: 'rm_app', password: 'rm_app' }),
  });
  await client.connect();
  try {
    await client.query('begin');
    await client.query(`select set_config('app.org_id', $1, true)`, [orgId]);
    const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
      `explain (format json) ${positional(query.sql)}`,
      query.params,
    );
    return rows[0]['QUERY PLAN'][0].Plan;
  } finally {
    await client.query('rollback').catch(() => undefined);
    await client.end();
  }
}

/**
 * The plans of every statement a function call runs inside PostgreSQL (auto_explain with nested
 * statements, its output sent to this client as notices), as the app role: the way to check
 * the statements of a route that is one function (rm_api_…), which EXPLAIN of the call cannot
 * show. Run in a transaction that is rolled back, so a write leaves nothing behind.
 */
export async function explainNestedAsApp(
  database: string,
  sql: string,
  params: unknown[],
): Promise<PlanNode[]> {
  const client = new Client({ connectionString: urlFor(database) });
  await client.connect();
  try {
    const statements = await explainNestedStatements(client, { analyze: false });
    await client.query('begin');
    await client.query('set local role rm_app');
    await client.query(positional(sql), params);
    return statements.map((s) => s.plan as unknown as PlanNode);
  } finally {
    await client.query('rollback').catch(() => undefined);
    await client.end();
  }
}

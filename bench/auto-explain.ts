import type { Client } from 'pg';

/** One statement auto_explain reported: its text and its plan (EXPLAIN's JSON). */
export interface ExplainedStatement {
  text: string;
  plan: { 'Actual Total Time'?: number } & Record<string, unknown>;
}

/**
 * Turns on auto_explain for `client`'s session with nested statements (those that functions run
 * inside PostgreSQL, which EXPLAIN of the call cannot show) and its output sent to the client as
 * notices; returns the list that every later statement's plan is appended to. Loading the module
 * needs a superuser; the session may then `set role` to the role to explain as.
 */
export async function explainNestedStatements(
  client: Client,
  options: { analyze: boolean },
): Promise<ExplainedStatement[]> {
  const statements: ExplainedStatement[] = [];
  client.on('notice', (notice) => {
    const text = notice.message ?? '';
    const start = text.indexOf('{');
    if (!text.includes('plan:') || start < 0) return;
    const entry = JSON.parse(text.slice(start)) as {
      'Query Text': string;
      Plan: ExplainedStatement['plan'];
    };
    statements.push({ text: entry['Query Text'], plan: entry.Plan });
  });
  await loadAutoExplain(client, { analyze: options.analyze, format: 'json' });
  return statements;
}

/**
 * Loads auto_explain into `client`'s session (a superuser's), every statement's plan, nested
 * ones included, sent to the client as a notice: in `format`, with actual times (and, with
 * `buffers`, shared buffers) when `analyze`.
 */
export async function loadAutoExplain(
  client: Client,
  options: { analyze: boolean; buffers?: boolean; format: 'json' | 'text' },
): Promise<void> {
  await client.query(`load 'auto_explain'`);
  for (const setting of [
    'auto_explain.log_min_duration = 0',
    'auto_explain.log_nested_statements = on',
    "auto_explain.log_level = 'notice'",
    `auto_explain.log_format = '${options.format}'`,
    `auto_explain.log_analyze = ${options.analyze ? 'on' : 'off'}`,
    `auto_explain.log_buffers = ${options.buffers ? 'on' : 'off'}`,
  ])
    await client.query(`set ${setting}`);
}

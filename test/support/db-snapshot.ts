import type { Client } from 'pg';

/** Per table: `<row count>:<md5 of every row's text, in a stable order>`. */
export type DatabaseSnapshot = Record<string, string>;

/**
 * A fingerprint of every table in the `public` schema, read as the owner (so row-level security
 * hides nothing). Two equal snapshots mean no row was inserted, updated or deleted in between.
 * Nothing is excluded: tables appearing later (a new migration) are included automatically.
 */
export async function snapshotDatabase(db: Client): Promise<DatabaseSnapshot> {
  const { rows: tables } = await db.query<{ name: string }>(
    `select tablename as name from pg_tables where schemaname = 'public' order by tablename`,
  );
  if (!tables.length) throw new Error('snapshotDatabase: no tables in the public schema');
  const sql = tables
    .map(
      ({ name }) =>
        `select ${literal(name)} as name, count(*)::text || ':' ||
                coalesce(md5(string_agg(t::text, '' order by t::text)), '-') as fingerprint
           from public.${identifier(name)} t`,
    )
    .join('\nunion all\n');
  const { rows } = await db.query<{ name: string; fingerprint: string }>(sql);
  return Object.fromEntries(rows.map((r) => [r.name, r.fingerprint]));
}

/** The tables whose fingerprint differs between two snapshots (empty when nothing changed). */
export function changedTables(before: DatabaseSnapshot, after: DatabaseSnapshot): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n] !== after[n]).sort();
}

const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (name: string) => `'${name.replace(/'/g, "''")}'`;

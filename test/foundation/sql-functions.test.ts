import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { Client } from 'pg';
import { dropDatabase } from '../../src/platform/database/bootstrap';
import { OWNER_URL, urlFor } from '../support/env';
import { createTestDatabase } from '../support/test-app';

const ROOT = join(__dirname, '../..');

function filesUnder(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, keep);
    return keep(path) ? [path] : [];
  });
}

const FUNCTION_FILES = filesUnder(join(ROOT, 'src'), (p) => /\/sql\/[^/]+\.sql$/.test(p));

/**
 * What a reviewer reads is what runs (issue 13): every rm_* function PostgreSQL has after the
 * migrations is defined by exactly one file, src/<module>/sql/<function>.sql, and is identical to
 * it. Each file is applied in a scratch schema of a migrated database and the two definitions are
 * compared as PostgreSQL prints them (pg_get_functiondef: arguments, result, language, volatility,
 * SECURITY DEFINER, settings and the body, byte for byte).
 */
describe('SQL functions: one readable file each, identical to what runs', () => {
  let database: string;
  let db: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: urlFor(database) });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    if (database) await dropDatabase(OWNER_URL, database);
  });

  const declared = (path: string) =>
    [
      ...readFileSync(path, 'utf8').matchAll(
        /create\s+or\s+replace\s+function\s+([a-z0-9_]+)\s*\(/gi,
      ),
    ].map((m) => m[1]);

  it('each file under src/**/sql defines one function, named like the file', () => {
    expect(FUNCTION_FILES.length).toBeGreaterThan(10);
    for (const path of FUNCTION_FILES) {
      expect({ file: relative(ROOT, path), defines: declared(path) }).toEqual({
        file: relative(ROOT, path),
        defines: [basename(path, '.sql')],
      });
    }
  });

  it('every rm_* function in the database has exactly one file, and every file a function', async () => {
    const { rows } = await db.query<{ name: string }>(
      `select p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.proname like 'rm\\_%' order by 1`,
    );
    const files = FUNCTION_FILES.map((p) => basename(p, '.sql')).sort();
    expect(new Set(files).size).toBe(files.length);
    expect(rows.map((r) => r.name)).toEqual(files);
  });

  it('every live function is identical to its file', async () => {
    const drifted: string[] = [];
    for (const path of FUNCTION_FILES) {
      const name = basename(path, '.sql');
      await db.query('begin');
      try {
        await db.query('create schema rm_drift');
        await db.query('set local search_path = rm_drift, public');
        await db.query('set local check_function_bodies = off');
        await db.query(readFileSync(path, 'utf8'));
        const { rows } = await db.query<{ schema: string; def: string }>(
          `select n.nspname as schema, pg_get_functiondef(p.oid) as def
             from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where p.proname = $1 and n.nspname in ('public', 'rm_drift')`,
          [name],
        );
        const live = rows.find((r) => r.schema === 'public')?.def;
        const file = rows
          .find((r) => r.schema === 'rm_drift')
          ?.def.replace(`FUNCTION rm_drift.${name}(`, `FUNCTION public.${name}(`);
        if (live === undefined || live !== file) {
          drifted.push(`${relative(ROOT, path)}:\n--- live\n${live}\n--- file\n${file}`);
        }
      } finally {
        await db.query('rollback');
      }
    }
    expect(drifted).toEqual([]);
  });

  it('no SQL function is written anywhere else in src/, and no migration edits SQL text', () => {
    const offenders = [
      ...filesUnder(join(ROOT, 'src'), (p) => p.endsWith('.ts')).filter((p) =>
        /create\s+(or\s+replace\s+)?function/i.test(readFileSync(p, 'utf8')),
      ),
      ...filesUnder(join(ROOT, 'migrations'), (p) => p.endsWith('.ts')).filter((p) =>
        /replaceOnce|\.replace\(/.test(readFileSync(p, 'utf8')),
      ),
    ].map((p) => relative(ROOT, p));
    expect(offenders).toEqual([]);
  });
});

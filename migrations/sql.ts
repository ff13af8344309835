import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * SQL text kept in files rather than in migration strings, so that what PostgreSQL runs can be
 * read in one piece (test/foundation/sql-functions.test.ts compares every live rm_* function
 * with its file).
 *
 * - `currentFunction('conversations/sql/rm_send_message.sql', '<sha256>')`: the current
 *   definition, from the module that owns it (src/<module>/sql/<function>.sql), with the checksum
 *   of the text this migration was written for. Only the latest migration that changes a function
 *   loads its current file; an edit to the file without a new migration fails every migration run
 *   (and so the tests) with the message below.
 * - `frozenSql('Migration…', 'rm_send_message.sql')`: a copy frozen beside an older migration
 *   (migrations/sql/<migration>/<file>). When a new migration changes a function, the migration
 *   that loaded its file before switches to a frozen copy of the text it applied, so a fresh
 *   database replays every step exactly as it ran.
 *
 * The build copies these files next to the compiled code (package.json "build").
 */
export function currentFunction(path: string, sha256: string): string {
  const text = readFileSync(join(__dirname, '..', 'src', path), 'utf8');
  const actual = sqlChecksum(text);
  if (actual !== sha256) {
    throw new Error(
      `src/${path} changed after the migration that applies it was written (checksum ${actual}, ` +
        `expected ${sha256}). Write a new migration that applies the file, and let the older one ` +
        'apply a frozen copy of the text it was written for (migrations/sql.ts).',
    );
  }
  return text;
}

/** The checksum currentFunction compares: SHA-256 of the file's text, hex. */
export function sqlChecksum(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function frozenSql(migration: string, file: string): string {
  return readFileSync(join(__dirname, 'sql', migration, file), 'utf8');
}

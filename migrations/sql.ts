import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * SQL text kept in files rather than in migration strings, so that what PostgreSQL runs can be
 * read in one piece (test/foundation/sql-functions.test.ts compares every live rm_* function
 * with its file).
 *
 * - `functionSql(migration, 'conversations/sql/rm_send_message.sql', '<sha256>')`: the text a
 *   migration applies for a function, with the checksum of the text it was written for. It is the
 *   current definition, from the module that owns it (src/<module>/sql/<function>.sql), until a
 *   later migration changes the function: then the older migration's text is frozen beside it
 *   (migrations/sql/<migration>/<function>.sql, the file copied before the edit) and read from
 *   there, so a fresh database replays every step exactly as it ran. An edit to a function's file
 *   without a new migration (or a frozen copy that differs from what its migration was written
 *   for) fails every migration run, and so the tests, with the message below.
 * - `frozenSql('Migration…', 'rm_send_message.sql')`: a copy frozen beside an older migration that
 *   predates checksums.
 *
 * The build copies these files next to the compiled code (package.json "build").
 */
export function functionSql(migration: string, path: string, sha256: string): string {
  const frozen = join(__dirname, 'sql', migration, basename(path));
  const source = existsSync(frozen) ? frozen : join(__dirname, '..', 'src', path);
  const text = readFileSync(source, 'utf8');
  const actual = sqlChecksum(text);
  if (actual !== sha256) {
    throw new Error(
      source === frozen
        ? `${frozen} is not the text ${migration} was written for (checksum ${actual}, expected ${sha256}).`
        : `src/${path} changed after ${migration}, which applies it, was written (checksum ${actual}, ` +
            `expected ${sha256}). Copy the text it was written for to ` +
            `migrations/sql/${migration}/${basename(path)} first, then write a new migration that ` +
            'applies the file (migrations/sql.ts).',
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

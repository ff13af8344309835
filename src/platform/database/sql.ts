import { createHash } from 'node:crypto';

/** A statement with knex-style `?` placeholders, built by a repository's query builder. */
export interface SqlQuery {
  sql: string;
  params: unknown[];
}

export interface PreparedText {
  /** A stable name per statement text: node-postgres prepares it once per connection. */
  name: string;
  /** The statement with $1..$n placeholders. */
  text: string;
}

const cache = new Map<string, PreparedText>();

/**
 * `?` placeholders to `$n`, and a name for the prepared statement. Our SQL has no `?` inside
 * literals and no jsonb `?` operators. Cached per text: the hot statements are prepared once per
 * pooled connection, so PostgreSQL plans them once instead of on every request.
 */
export function prepare(sql: string): PreparedText {
  let prepared = cache.get(sql);
  if (!prepared) {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    prepared = { name: `rm_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`, text };
    if (cache.size < 10_000) cache.set(sql, prepared);
  }
  return prepared;
}

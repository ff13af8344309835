/** Where the tests find PostgreSQL and Redis (the same defaults as development). */
export const OWNER_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Each `jest` run migrates its own template (named after the run's pid, which globalSetup puts in
 * the environment of the workers), so two runs on one machine never share or drop each other's
 * databases.
 */
export function runId(): string {
  return process.env.RM_TEST_RUN ?? String(process.pid);
}
export function templateDb(): string {
  return `rm_tpl_${runId()}`;
}

export function urlFor(database: string, user?: { name: string; password: string }): string {
  const url = new URL(OWNER_URL);
  url.pathname = `/${database}`;
  if (user) {
    url.username = user.name;
    url.password = user.password;
  }
  return url.toString();
}

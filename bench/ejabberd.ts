import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { databaseName, withDatabase } from './db';
import { toLoadResult } from './load';
import { freePort, onCleanup } from './processes';
import { PHRASES } from './scenarios';
import { startSampling, type Sample } from './sampler';
import type { LoadResult } from './stats';

/**
 * ejabberd beside the service (issue 17, SPEC §5: at least as many sends per second as ejabberd's
 * `send_message` with its archive in PostgreSQL, on the same machine in the same session).
 *
 * Debian's ejabberd, started from bench/ejabberd/ejabberd.yml in a throw-away directory on its own
 * database (the package's pg.sql), loaded with autocannon: `POST /api/send_message` between
 * random registered users, at each of `connections`. The archive rows are counted around each
 * measured run so the rate is of messages really stored; ejabberd is stopped and its database
 * dropped afterwards.
 */

export interface EjabberdOptions {
  /** Owner URL of the PostgreSQL server (ejabberd's database is made there). */
  ownerUrl: string;
  /** ejabberd's database, dropped and recreated (default rm_ejabberd). */
  database?: string;
  /** ejabberdctl (default: found on PATH or in /usr/sbin). */
  ctl?: string | null;
  /** A running ejabberd's REST API (e.g. http://127.0.0.1:15280/api): used, not started. */
  url?: string;
  /** The XMPP host the users live on (default bench.localhost; a running one: its host). */
  host?: string;
  /** Registered users the sends go between (default 200). */
  users: number;
  connections: number[];
  seconds: number;
  warmupSeconds: number;
  /** Kept after the run: the throw-away directory (config, logs) and the database. */
  keep?: boolean;
  log: (line: string) => void;
}

export interface EjabberdRun {
  connections: number;
  result: LoadResult;
  /** Archive rows written during the measured seconds (until they stopped growing). */
  archiveRows: number;
  /** Archive rows per message, measured on one message before the load (2: sender, recipient). */
  rowsPerMessage: number;
  /** archiveRows / (rowsPerMessage × 2xx): 1 when every accepted send was stored. */
  stored: number;
  /** ejabberd's CPU in `api`, its database's backends in `postgres` (null for a running one). */
  sample: Sample | null;
}

export interface EjabberdReport {
  /** Why ejabberd is not in this run (absent, --no-ejabberd, failed to start: what failed). */
  skipped: string | null;
  version: string | null;
  /** Started by the bench from bench/ejabberd/ejabberd.yml, or one already running. */
  started: boolean;
  users: number;
  runs: EjabberdRun[];
}

/** `stored` below this (or far above) marks the run as not comparable. */
export const STORED_TOLERANCE = 0.02;

/** ejabberdctl on PATH or in /usr/sbin (root's PATH has it; others' may not), else null. */
export function findEjabberdctl(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const path = join(dir, 'ejabberdctl');
    if (existsSync(path)) return path;
  }
  return null;
}

const INSTALL = 'Debian: apt-get install ejabberd erlang-p1-pgsql; see bench/ejabberd/README.md';

/** The package's PostgreSQL schema (the single-host one, as new_sql_schema is off). */
function findSchema(): string | null {
  for (const path of [
    '/usr/share/ejabberd/sql/pg.sql',
    '/usr/lib/ejabberd/priv/sql/pg.sql',
    '/opt/ejabberd/lib/ejabberd/priv/sql/pg.sql',
  ]) {
    if (existsSync(path)) return path;
  }
  return null;
}

/** bench/ejabberd/ejabberd.yml, from the sources (ts) or the build (dist/bench). */
function configTemplate(): string {
  for (const path of [
    resolve(__dirname, 'ejabberd', 'ejabberd.yml'),
    resolve(__dirname, '..', '..', 'bench', 'ejabberd', 'ejabberd.yml'),
  ]) {
    if (existsSync(path)) return readFileSync(path, 'utf8');
  }
  throw new Error('bench/ejabberd/ejabberd.yml is missing');
}

/** The template with the keys marked "set by the bench" replaced. */
export function ejabberdConfig(values: {
  host: string;
  pg: URL;
  database: string;
  port: number;
}): string {
  const set = (text: string, key: string, value: string) => {
    const re = new RegExp(`^(\\s*(?:- )?${key}:?\\s*)[^#\\n]*?(\\s*# set by the bench)$`, 'm');
    if (!re.test(text)) throw new Error(`ejabberd.yml: no "${key}" set by the bench`);
    return text.replace(re, `$1${value}$2`);
  };
  let text = configTemplate();
  text = text.replace(/^(hosts:\n\s*- )\S+(\s*# set by the bench)$/m, `$1${values.host}$2`);
  text = set(text, 'sql_server', values.pg.hostname || '127.0.0.1');
  text = set(text, 'sql_port', values.pg.port || '5432');
  text = set(text, 'sql_database', values.database);
  text = set(text, 'sql_username', decodeURIComponent(values.pg.username || 'postgres'));
  text = set(
    text,
    'sql_password',
    `'${decodeURIComponent(values.pg.password).replace(/'/g, "''")}'`,
  );
  text = set(text, 'port', String(values.port));
  return text;
}

/** The beam process running `node` (its -sname), or null. */
function beamPid(node: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    const i = args.findIndex((a) => a === '-sname' || a === '-name');
    if (i >= 0 && args[i + 1] === node && args[0].includes('beam')) return Number(entry);
  }
  return null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(
  url: string,
  command: string,
  body: unknown,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/${command}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

async function archiveCount(url: string): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: string }>('select count(*) as n from archive');
    return Number(rows[0].n);
  } finally {
    await c.end();
  }
}

/** The archive's row count once it has not moved for half a second (at most 10 s). */
async function settledArchive(url: string): Promise<number> {
  let last = await archiveCount(url);
  for (let i = 0; i < 20; i++) {
    await sleep(500);
    const now = await archiveCount(url);
    if (now === last) return now;
    last = now;
  }
  return last;
}

interface Started {
  apiUrl: string;
  dbUrl: string;
  pid: number | null;
  version: string | null;
  stop: () => Promise<void>;
}

/** Makes the database and the directory, starts ejabberd on them, waits for its API. */
async function start(o: EjabberdOptions, ctl: string, host: string): Promise<Started> {
  const schema = findSchema();
  if (!schema) throw new Skip(`ejabberd's PostgreSQL schema (pg.sql) was not found (${INSTALL})`);
  if (
    !existsSync('/usr/lib/erlang/lib') ||
    !readdirSync('/usr/lib/erlang/lib').some((d) => d.startsWith('p1_pgsql-'))
  ) {
    throw new Skip(`ejabberd's PostgreSQL driver is missing (${INSTALL})`);
  }
  // ejabberdctl runs ejabberd as the user "ejabberd" (su from root), or as that user itself.
  const user = spawnSync('id', ['-u', 'ejabberd'], { encoding: 'utf8' });
  const uid = Number(user.stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'ejabberd'], { encoding: 'utf8' }).stdout.trim());
  if (user.status !== 0) throw new Skip(`there is no user "ejabberd" (${INSTALL})`);
  if (process.getuid?.() !== 0 && process.getuid?.() !== uid) {
    throw new Skip('ejabberdctl runs only as root or the user "ejabberd"');
  }

  const database = o.database ?? 'rm_ejabberd';
  if (/^(resident_messaging|postgres|template[01]|rm_tpl_.*)$/.test(database)) {
    throw new Error(`--ejabberd-database ${database}: the bench drops it; name another`);
  }
  const dbUrl = withDatabase(o.ownerUrl, database);
  const admin = new Client({ connectionString: withDatabase(o.ownerUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${database}" with (force)`);
    await admin.query(`create database "${database}"`);
  } finally {
    await admin.end();
  }
  const db = new Client({ connectionString: dbUrl });
  await db.connect();
  try {
    await db.query(readFileSync(schema, 'utf8'));
  } finally {
    await db.end();
  }

  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rm-ejabberd-'));
  const node = `rmbench${randomBytes(3).toString('hex')}@localhost`;
  writeFileSync(
    join(dir, 'ejabberd.yml'),
    ejabberdConfig({ host, pg: new URL(o.ownerUrl), database, port }),
  );
  // ejabberdctl sources this and reads inetrc from the config directory.
  writeFileSync(join(dir, 'ejabberdctl.cfg'), 'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\n');
  writeFileSync(
    join(dir, 'inetrc'),
    '{lookup,["file","native"]}.\n{host,{127,0,0,1}, ["localhost"]}.\n{file, resolv, "/etc/resolv.conf"}.\n',
  );
  for (const sub of ['logs', 'spool']) mkdirSync(join(dir, sub));
  if (process.getuid?.() === 0) {
    for (const path of [
      dir,
      ...['ejabberd.yml', 'ejabberdctl.cfg', 'inetrc', 'logs', 'spool'].map((f) => join(dir, f)),
    ]) {
      chownSync(path, uid, gid);
    }
  }
  const args = [
    '--config-dir',
    dir,
    '--ctl-config',
    join(dir, 'ejabberdctl.cfg'),
    '--logs',
    join(dir, 'logs'),
    '--spool',
    join(dir, 'spool'),
    '--node',
    node,
  ];
  const epmdBefore = epmdRunning();
  const ctlRun = (command: string) =>
    spawnSync(ctl, [...args, command], { encoding: 'utf8', timeout: 60_000, cwd: dir });

  let pid: number | null = null;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (pid && alive(pid)) {
      ctlRun('stop');
      for (let i = 0; i < 60 && alive(pid); i++) await sleep(500);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    // ejabberdctl starts epmd when none runs; stop it again if no other node uses it.
    if (!epmdBefore) {
      const names = spawnSync('epmd', ['-names'], { encoding: 'utf8' });
      if (names.status === 0 && !/^name /m.test(names.stdout)) spawnSync('epmd', ['-kill']);
    }
    if (!o.keep) {
      rmSync(dir, { recursive: true, force: true });
      const c = new Client({ connectionString: withDatabase(o.ownerUrl, 'postgres') });
      await c.connect();
      await c.query(`drop database if exists "${database}" with (force)`).finally(() => c.end());
    }
  };
  const forget = onCleanup(stop);

  const started = ctlRun('start');
  const apiUrl = `http://127.0.0.1:${port}/api`;
  const logTail = () => {
    try {
      return readFileSync(join(dir, 'logs', 'error.log'), 'utf8')
        .split('\n')
        .filter((l) => /\[(critical|error)\]/.test(l))
        .slice(0, 3)
        .join('\n');
    } catch {
      return '';
    }
  };
  try {
    if (started.status !== 0) {
      throw new Skip(
        `ejabberdctl start failed (${started.status}): ${started.stderr || started.stdout}`,
      );
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      pid ??= beamPid(node);
      const status = await post(apiUrl, 'status', {}).catch(() => null);
      if (status?.status === 200) break;
      if (Date.now() > deadline) {
        throw new Skip(`ejabberd did not answer on ${apiUrl} within 60 s. ${logTail()}`);
      }
      await sleep(500);
    }
  } catch (error) {
    await stop();
    forget();
    throw error;
  }
  const version =
    /ejabberd (\S+) is running/.exec((await post(apiUrl, 'status', {})).text)?.[1] ??
    packageVersion();
  return {
    apiUrl,
    dbUrl,
    pid,
    version,
    stop: async () => {
      if (o.keep) o.log(`ejabberd: kept ${dir} and the database ${database}`);
      await stop();
      forget();
    },
  };
}

function epmdRunning(): boolean {
  return spawnSync('epmd', ['-names'], { encoding: 'utf8' }).status === 0;
}

function packageVersion(): string | null {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'ejabberd'], { encoding: 'utf8' });
  } catch {
    return null;
  }
}

class Skip extends Error {}

/** Registers `count` users (u0…) through the API; one that exists already is fine. */
async function register(apiUrl: string, host: string, count: number): Promise<void> {
  let next = 0;
  const one = async () => {
    while (next < count) {
      const user = `u${next++}`;
      const r = await post(apiUrl, 'register', { user, host, password: 'bench' });
      if (r.status !== 200 && !/already registered|conflict/i.test(r.text)) {
        throw new Skip(`ejabberd: register ${user}@${host} answered ${r.status}: ${r.text}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, one));
}

function randomPair(users: number): [number, number] {
  const from = Math.floor(Math.random() * users);
  let to = Math.floor(Math.random() * (users - 1));
  if (to >= from) to++;
  return [from, to];
}

function sendBody(host: string, users: number): string {
  const [from, to] = randomPair(users);
  return JSON.stringify({
    type: 'chat',
    from: `u${from}@${host}`,
    to: `u${to}@${host}`,
    subject: '',
    body: PHRASES[Math.floor(Math.random() * PHRASES.length)],
  });
}

async function load(
  apiUrl: string,
  host: string,
  users: number,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const result = await autocannon({
    url: `${apiUrl}/send_message`,
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: sendBody(host, users) }),
      },
    ],
  });
  return toLoadResult(result);
}

/** The whole stage: start (or use), register, load at each concurrency, stop. */
export async function runEjabberd(o: EjabberdOptions): Promise<EjabberdReport> {
  const host = o.host ?? 'bench.localhost';
  const users = Math.max(2, o.users);
  const report: EjabberdReport = {
    skipped: null,
    version: null,
    started: !o.url,
    users,
    runs: [],
  };
  let running: Started | null = null;
  try {
    if (o.url) {
      const database = o.database ?? 'rm_ejabberd';
      running = {
        apiUrl: o.url.replace(/\/$/, ''),
        dbUrl: withDatabase(o.ownerUrl, database),
        pid: null,
        version: packageVersion(),
        stop: () => Promise.resolve(),
      };
    } else {
      const ctl = o.ctl === undefined ? findEjabberdctl() : o.ctl;
      if (!ctl) throw new Skip(`ejabberd is not installed (no ejabberdctl; ${INSTALL})`);
      running = await start(o, ctl, host);
    }
    report.version = running.version;
    o.log(
      `ejabberd ${report.version ?? ''}: ${running.apiUrl}, archive in ${databaseName(running.dbUrl)}; registering ${users} users`,
    );
    await register(running.apiUrl, host, users);
    // One message first: it must be accepted and archived (how many rows a message makes).
    const before = await archiveCount(running.dbUrl);
    const probe = await post(running.apiUrl, 'send_message', JSON.parse(sendBody(host, users)));
    if (probe.status !== 200) {
      throw new Skip(`ejabberd: send_message answered ${probe.status}: ${probe.text}`);
    }
    const rowsPerMessage = (await settledArchive(running.dbUrl)) - before;
    if (rowsPerMessage < 1)
      throw new Skip('ejabberd: a send_message wrote no archive row (mod_mam?)');
    const scope = { database: databaseName(running.dbUrl), redisPort: 0 };
    for (const connections of o.connections) {
      if (o.warmupSeconds > 0) {
        await load(running.apiUrl, host, users, connections, o.warmupSeconds);
      }
      const start = await settledArchive(running.dbUrl);
      const sampling = running.pid ? startSampling(scope, { api: running.pid }) : null;
      const result = await load(running.apiUrl, host, users, connections, o.seconds);
      const sample = sampling?.stop() ?? null;
      const archiveRows = (await settledArchive(running.dbUrl)) - start;
      const accepted = result.completed - result.non2xx;
      const stored = accepted > 0 ? archiveRows / (rowsPerMessage * accepted) : 0;
      report.runs.push({ connections, result, archiveRows, rowsPerMessage, stored, sample });
      o.log(
        `ejabberd send_message at ${connections} connections: ${result.rps.toFixed(0)} sends/s, ` +
          `p50 ${result.p50.toFixed(1)} p99 ${result.p99.toFixed(1)} ms, non-2xx ${result.non2xx} ` +
          `errors ${result.errors}; ${archiveRows} archive rows for ${accepted} accepted ` +
          `(${rowsPerMessage} a message: ${(stored * 100).toFixed(1)} % stored)`,
      );
    }
  } catch (error) {
    if (!(error instanceof Skip)) throw error;
    report.skipped = error.message;
    o.log(`ejabberd skipped: ${error.message}`);
  } finally {
    await running?.stop();
  }
  return report;
}

/** Whether a run's archive matches its accepted sends (the comparison is honest). */
export function archiveHolds(run: EjabberdRun): boolean {
  return Math.abs(run.stored - 1) <= STORED_TOLERANCE;
}

import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { toLoadResult } from './load';
import {
  defaultMinimalFloorPath,
  minimalFloorMissing,
  runMinimalFloor,
  type FloorScript,
} from './minimal-floor';
import { freePort, installCleanup, spawnLogged, stopAll, stopProcess } from './processes';
import { startSampling } from './sampler';

const HELP = `npm run bench:ceiling [-- options]

The framework ceiling (issue 17): what a bare Nest + Fastify service (bench/ceiling-app.ts: a
validated body, a node-postgres pool of named statements, nothing else) answers per second when
each request runs exactly the minimal floor's SQL on the floor's plain schema, beside the minimal
floor itself (../shared/floor/run.sh) in the same run. Its ratio to the floor is the most any
service of this stack can reach on this machine, its load generator on the same cores: a route
target above it cannot be met by work on the service. The same again without a framework
(bench/ceiling-raw-app.ts: Node's http module and node-postgres): the most any Node.js service
can reach.

  --pg URL              PostgreSQL owner URL (default postgres://postgres@127.0.0.1:5432)
  --minimal-floor PATH  run.sh (default <repo>/../shared/floor/run.sh)
  --duration S          measured seconds per operation and floor script (default 15)
  --warmup S            (default 3)
  --connections N       (default 64, as npm run bench)
  --database NAME       the ceiling's copy of the floor schema (default rm_ceiling; dropped after)
  --apps L              which services, in turn: nest (Nest + Fastify), raw (node:http, no
                        framework), raw-json (the same, its thread page rendered as JSON text by
                        PostgreSQL and written untouched; the page only) (default nest,raw,raw-json)
`;

/** The ceiling's services: the stack's, and Node's own http module with no framework. */
const APPS: Record<string, { entry: string; args?: string[]; label: string; ops?: string[] }> = {
  nest: { entry: 'ceiling-app.js', label: 'Nest + Fastify' },
  raw: { entry: 'ceiling-raw-app.js', label: 'node:http, no framework' },
  'raw-json': {
    entry: 'ceiling-raw-app.js',
    args: ['json'],
    label: 'node:http, page JSON from PostgreSQL',
    ops: ['page'],
  },
};

interface Op {
  script: FloorScript;
  label: string;
  request: () => {
    method: 'GET' | 'POST';
    path: string;
    headers?: Record<string, string>;
    body?: string;
  };
}

const rand = (n: number) => 1 + Math.floor(Math.random() * n);
const BODY = JSON.stringify({
  body: 'Hello from pgbench, this is a typical short direct message body of about one hundred bytes.',
});

/** The floor's three operations over HTTP, with the floor's random keys (page.sql, unread.sql, send.sql). */
const OPS: Op[] = [
  {
    script: 'page',
    label: 'thread page',
    request: () => ({ method: 'GET', path: `/threads/${rand(5000)}/messages` }),
  },
  {
    script: 'unread',
    label: 'unread count',
    request: () => ({ method: 'GET', path: `/users/${rand(1000)}/unread-count` }),
  },
  {
    script: 'send',
    label: 'send',
    request: () => ({
      method: 'POST',
      path: `/threads/${rand(5000)}/messages`,
      headers: { 'content-type': 'application/json' },
      body: BODY,
    }),
  },
];

function psql(url: string, args: string[]): void {
  const result = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, ...args], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`psql ${args.join(' ')}: ${result.stderr}`);
}

async function main() {
  const { values } = parseArgs({
    options: {
      pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
      'minimal-floor': { type: 'string' },
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '64' },
      database: { type: 'string', default: 'rm_ceiling' },
      apps: { type: 'string', default: 'nest,raw,raw-json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  installCleanup();
  const root = resolve(__dirname, '..', '..');
  const floorPath = resolve(values['minimal-floor'] ?? defaultMinimalFloorPath(root));
  const missing = minimalFloorMissing(floorPath);
  if (missing) throw new Error(missing);
  const seconds = Number(values.duration);
  const warmup = Number(values.warmup);
  const connections = Number(values.connections);
  const database = values.database;
  if (!/^rm_ceiling\w*$/.test(database))
    throw new Error('the ceiling database is named rm_ceiling…');
  const apps = values.apps.split(',').filter(Boolean);
  const unknown = apps.filter((a) => !(a in APPS));
  if (unknown.length || !apps.length)
    throw new Error(`--apps: of ${Object.keys(APPS).join(', ')}, not ${values.apps}`);
  const server = values.pg.replace(/\/$/, '');
  const started = new Date();

  const floor = await runMinimalFloor({
    path: floorPath,
    ownerUrl: `${server}/postgres`,
    seconds,
    scripts: OPS.map((o) => o.script),
    when: 'before',
  });

  const url = `${server}/${database}`;
  const dir = dirname(floorPath);
  /** The floor's schema and seed, fresh for each service (the sends of one add to its data). */
  const createDatabase = () => {
    psql(`${server}/postgres`, [
      '-c',
      `drop database if exists ${database}`,
      '-c',
      `create database ${database}`,
    ]);
    psql(url, ['-f', join(dir, 'schema.sql')]);
    psql(url, ['-f', join(dir, 'seed.sql')]);
    psql(url, ['-c', 'vacuum analyze']);
  };

  const rows: string[] = [];
  for (const name of apps) {
    createDatabase();
    const port = await freePort();
    const log = join(root, 'bench', 'results', `ceiling-${name}.log`);
    const app = spawnLogged(
      process.execPath,
      [join(__dirname, APPS[name].entry), url, String(port), ...(APPS[name].args ?? [])],
      { ...process.env } as Record<string, string>,
      log,
    );
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/users/1/unread-count`)).ok) break;
      } catch {
        /* not listening yet */
      }
      if (i > 150 || app.exitCode !== null)
        throw new Error(`the ceiling app (${name}) did not start; see ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    for (const op of OPS.filter((o) => !APPS[name].ops || APPS[name].ops.includes(o.script))) {
      psql(url, ['-c', 'checkpoint']);
      const load = (duration: number) =>
        autocannon({
          url: base,
          connections,
          duration,
          pipelining: 1,
          timeout: 10,
          requests: [{ setupRequest: (request) => ({ ...request, ...op.request() }) }],
        });
      await load(warmup);
      const sampling = startSampling({ database, redisPort: 0 }, { api: app.pid! });
      const result = toLoadResult(await load(seconds));
      const cpu = sampling.stop().cpu;
      const ms = (cores: number) => ((cores * 1000) / result.rps).toFixed(2);
      const floorTps = floor.figures[op.script]?.tps ?? NaN;
      const failed = result.non2xx + result.errors;
      rows.push(
        `| ${APPS[name].label} | ${op.label} | ${Math.round(result.rps)} | ${result.p99} | ${failed} | ${Math.round(floorTps)} | ` +
          `**${(result.rps / floorTps).toFixed(2)}** | ${ms(cpu.api)} | ${ms(cpu.postgres)} | ${ms(cpu.bench)} | ${ms(cpu.total)} |`,
      );
    }
    await stopProcess(app);
  }
  psql(`${server}/postgres`, ['-c', `drop database if exists ${database}`]);

  process.stdout.write(
    [
      `## The framework ceiling (${started.toISOString()}, ${seconds} s an operation, ${connections} connections)`,
      '',
      "A bare Nest + Fastify service running only the minimal floor's SQL (bench/ceiling-app.ts), and the same with Node's http module and no framework (bench/ceiling-raw-app.ts), beside the minimal floor of the same run. CPU in ms a request, from /proc: the app, PostgreSQL, the load generator (autocannon, in this process), the whole machine.",
      '',
      '| service | operation | req/s | p99 ms | failed | minimal floor tx/s | ceiling / floor | app ms | PostgreSQL ms | load generator ms | machine ms |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
    ].join('\n'),
  );
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => void stopAll());

import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { hasNginx, NGINX_MISSING } from './balancer';
import { withDatabase } from './db';
import { findEjabberdctl } from './ejabberd';
import type { FloorProtocol } from './floor';
import { runBench, type BenchOptions } from './harness';
import { defaultMinimalFloorPath } from './minimal-floor';
import { installCleanup, stopAll } from './processes';
import { renderReport } from './report';
import { SCENARIOS, type ScenarioName } from './scenarios';
import { builtLauncher, START_NODE_ARGS, type Shape } from './service';

const HELP = `npm run bench [-- options]

Seeds its own database, starts the built service (npm start shape, then the production shape),
loads it with autocannon, measures the raw-SQL floor, the notification lag and the growth from
--messages to --grow-to, prints the tables and writes bench/results/<time>/ and bench/plans/.

  --database NAME        the bench database, dropped and recreated (default rm_bench)
  --pg URL               PostgreSQL owner URL (default postgres://postgres@127.0.0.1:5432)
  --redis URL            Redis (default redis://127.0.0.1:6379)
  --messages N           messages in the main data set (default 200000)
  --large                the main data set with 1,000,000 messages (no growth step)
  --grow-to N            reseed to N messages for the growth step (default 1000000; 0 skips)
  --orgs N --members N --threads N   (defaults 10, 2100, 20000 in all)
  --users N              distinct load users, one token each (default 500)
  --connections N        (default 64)
  --duration S           measured seconds per scenario (default 10)
  --warmup S             warm-up seconds per scenario (default 3)
  --growth-duration S    measured seconds per growth scenario (default 8)
  --shapes dev,prod      which service shapes to run (default both)
  --scenarios a,b        of ${SCENARIOS.map((s) => s.name).join(', ')}
  --floor-pool N         node-postgres pool size for the floor (default 16, the service's
                         DATABASE_POOL_MAX default; the concurrency stays --connections)
  --floor-protocol P     prepared (named prepared statements, as the service; default),
                         extended (bound parameters, unnamed statements) or simple (literals inlined
                         as the service's MikroORM em.execute sends them)
  --no-floor             skip the service's own floor (service-only runs)
  --minimal-floor PATH   the minimal floor's run.sh (SPEC §5; default <repo>/../shared/floor/run.sh),
                         run for --duration a script right before the routes and again after them
                         (and ejabberd), in a throw-away database; absent: skipped with a note
  --no-minimal-floor     skip the minimal floor
  --no-minimal-floor-after   run it only before the routes (no drift figure)
  --ejabberd             ejabberd's REST send_message with its archive in PostgreSQL, after the
                         routes, at 16 and 64 connections (see bench/ejabberd/README.md); on by
                         default when ejabberdctl is found, else skipped with a note
  --no-ejabberd          skip ejabberd
  --ejabberd-connections L   (default 16,64)
  --ejabberd-url URL     use a running ejabberd's REST API (e.g. http://127.0.0.1:5280/api) with
                         its archive in --ejabberd-database, instead of starting one
  --ejabberd-host HOST   its XMPP host (default bench.localhost)
  --ejabberd-database N  ejabberd's database on --pg (default rm_ejabberd; dropped and recreated
                         when the bench starts ejabberd)
  --ejabberd-keep        keep the throw-away ejabberd directory and database after the run
  --streams N            event streams open during a send run, timed to the recipient's stream
                         (default 1000; 0 skips)
  --idle-streams N       idle event streams for the API's RSS (default 10000; 0 skips)
  --stream-rate N        a second stream run with the sends paced at N a second, below saturation
                         (default 100; 0 skips)
  --sustained S          the sustained-send run: the send scenario for S seconds with every
                         consumer busy (a webhook endpoint per org to a local receiver, --streams
                         streams open), the backlog of each stage sampled every second (default 60;
                         0 skips)
  --sustained-workers L  worker processes for the sustained runs, one run each (default 1,2)
  --api-processes L      the scenarios again in the production shape with N API processes behind
                         nginx running deploy/nginx/nginx.conf (one worker), one run each, beside
                         the same floor (default 1,2 when nginx is installed, else skipped with a
                         warning; 0 skips)
  --service-env K=V,…    extra environment for the service (experiments, e.g. LOG_LEVEL=warn)
  --otlp-sink            traces on: the service exports OTLP to a local receiver that discards
                         them (the cost of tracing, against a run without it)
  --no-plans             do not rewrite bench/plans/
  --cpu-prof             profile the service processes into bench/results/profiles/;
                         summarise with node dist/bench/profile.js <file.cpuprofile>
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string', default: 'rm_bench' },
      pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
      redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
      messages: { type: 'string', default: '200000' },
      large: { type: 'boolean', default: false },
      'grow-to': { type: 'string', default: '1000000' },
      orgs: { type: 'string', default: '10' },
      members: { type: 'string', default: '2100' },
      threads: { type: 'string', default: '20000' },
      users: { type: 'string', default: '500' },
      connections: { type: 'string', default: '64' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      'growth-duration': { type: 'string', default: '8' },
      shapes: { type: 'string', default: 'dev,prod' },
      scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
      'floor-pool': { type: 'string', default: '16' },
      'floor-protocol': { type: 'string', default: 'prepared' },
      'no-plans': { type: 'boolean', default: false },
      'no-floor': { type: 'boolean', default: false },
      'minimal-floor': { type: 'string' },
      'no-minimal-floor': { type: 'boolean', default: false },
      'no-minimal-floor-after': { type: 'boolean', default: false },
      ejabberd: { type: 'boolean', default: false },
      'no-ejabberd': { type: 'boolean', default: false },
      'ejabberd-connections': { type: 'string', default: '16,64' },
      'ejabberd-url': { type: 'string' },
      'ejabberd-host': { type: 'string' },
      'ejabberd-database': { type: 'string', default: 'rm_ejabberd' },
      'ejabberd-keep': { type: 'boolean', default: false },
      streams: { type: 'string', default: '1000' },
      'idle-streams': { type: 'string', default: '10000' },
      'stream-rate': { type: 'string', default: '100' },
      'service-env': { type: 'string', default: '' },
      sustained: { type: 'string', default: '60' },
      'sustained-workers': { type: 'string', default: '1,2' },
      'api-processes': { type: 'string' },
      'otlp-sink': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return Promise.resolve();
  }
  const num = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number`);
    return n;
  };
  const orgs = num('orgs', values.orgs);
  const messages = values.large ? 1_000_000 : num('messages', values.messages);
  const shapes = values.shapes.split(',').filter(Boolean) as Shape[];
  if (shapes.some((s) => s !== 'dev' && s !== 'prod')) throw new Error('--shapes: dev and/or prod');
  const scenarios = values.scenarios.split(',').filter(Boolean) as ScenarioName[];
  const unknown = scenarios.filter((s) => !SCENARIOS.some((x) => x.name === s));
  if (unknown.length) throw new Error(`unknown scenarios: ${unknown.join(', ')}`);
  const connections = num('connections', values.connections);
  const floorProtocol = values['floor-protocol'] as FloorProtocol;
  if (!['prepared', 'extended', 'simple'].includes(floorProtocol)) {
    throw new Error('--floor-protocol: prepared, extended or simple');
  }
  let apiProcesses = (values['api-processes'] ?? '1,2')
    .split(',')
    .filter(Boolean)
    .map((n) => num('api-processes', n))
    .filter((n) => n > 0);
  if (apiProcesses.length && !hasNginx()) {
    if (values['api-processes'] !== undefined) throw new Error(NGINX_MISSING);
    process.stdout.write(`warning: ${NGINX_MISSING}; the API-process runs are skipped\n`);
    apiProcesses = [];
  }
  const root = resolve(__dirname, '..', '..');
  if (values.ejabberd && values['no-ejabberd']) throw new Error('--ejabberd or --no-ejabberd');
  const ejabberdctl = values['ejabberd-url'] ? null : findEjabberdctl();
  if (values.ejabberd && !values['ejabberd-url'] && !ejabberdctl) {
    throw new Error('--ejabberd: ejabberdctl is not installed (see bench/ejabberd/README.md)');
  }
  const ejabberdConnections = values['ejabberd-connections']
    .split(',')
    .filter(Boolean)
    .map((n) => num('ejabberd-connections', n))
    .filter((n) => n > 0);
  const sink = values['otlp-sink'] ? await startOtlpSink() : null;
  const options: BenchOptions = {
    ownerUrl: withDatabase(values.pg, values.database),
    recreate: true,
    redisUrl: values.redis,
    size: {
      orgs,
      membersPerOrg: Math.ceil(num('members', values.members) / orgs),
      threadsPerOrg: Math.ceil(num('threads', values.threads) / orgs),
      messages,
    },
    growTo: values.large ? null : num('grow-to', values['grow-to']) || null,
    users: num('users', values.users),
    connections,
    seconds: num('duration', values.duration),
    warmupSeconds: num('warmup', values.warmup),
    growthSeconds: num('growth-duration', values['growth-duration']),
    shapes,
    scenarios,
    floorPool: num('floor-pool', values['floor-pool']),
    floorProtocol,
    noFloor: values['no-floor'],
    minimalFloor: values['no-minimal-floor']
      ? null
      : resolve(values['minimal-floor'] ?? defaultMinimalFloorPath(root)),
    minimalFloorAfter: !values['no-minimal-floor-after'],
    // Without ejabberdctl the stage still runs, to say in results.md that ejabberd is absent.
    ejabberd: values['no-ejabberd']
      ? null
      : {
          ctl: ejabberdctl,
          url: values['ejabberd-url'],
          host: values['ejabberd-host'],
          database: values['ejabberd-database'],
          keep: values['ejabberd-keep'],
          connections: ejabberdConnections,
        },
    streams: num('streams', values.streams),
    idleStreams: num('idle-streams', values['idle-streams']),
    streamRate: num('stream-rate', values['stream-rate']),
    sustainedSeconds: num('sustained', values.sustained),
    sustainedWorkers: values['sustained-workers']
      .split(',')
      .filter(Boolean)
      .map((n) => Math.max(1, num('sustained-workers', n))),
    apiProcesses,
    cpuProfileDir: values['cpu-prof'] ? join(root, 'bench', 'results', 'profiles') : undefined,
    serviceEnv: {
      ...Object.fromEntries(
        values['service-env']
          .split(',')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
      ...(sink ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } : {}),
    },
    resultsDir: join(root, 'bench', 'results'),
    plansDir: values['no-plans'] ? null : join(root, 'bench', 'plans'),
    launcher: builtLauncher(join(root, 'dist'), [
      ...START_NODE_ARGS,
      ...(values['cpu-prof'] ? ['--require', join(root, 'dist', 'bench', 'cpu-profiler.js')] : []),
    ]),
    log: (line) => process.stdout.write(`${line}\n`),
  };
  const report = await runBench(options);
  process.stdout.write(`\n${renderReport(report)}`);
  if (sink) {
    process.stdout.write(
      `\nOTLP sink: ${sink.requests()} export requests, ${sink.bytes()} bytes received and discarded\n`,
    );
    sink.close();
  }
}

/** An OTLP/HTTP receiver that answers 200 and discards what it gets (the collector's cost out). */
async function startOtlpSink() {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' });
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    bytes: () => bytes,
    close: () => server.close(),
  };
}

installCleanup();
main()
  .catch(async (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    await stopAll();
    process.exitCode = 1;
  })
  .finally(() => {
    // Pools and sockets are closed; anything left (a stuck child) must not keep us alive.
    setTimeout(() => process.exit(), 1000).unref();
  });

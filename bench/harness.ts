import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appPool, databaseName, recreateDatabase, withOwner } from './db';
import { loadFixtures, type Fixtures } from './fixtures';
import { runEjabberd, type EjabberdOptions, type EjabberdReport } from './ejabberd';
import { runFloor, type FloorProtocol } from './floor';
import { drain, notificationLag, settleOutbox, type LagResult } from './lag';
import { runHttp } from './load';
import { clearRedisPrefix, describeMachine, type Machine } from './machine';
import {
  floorScripts,
  minimalFloorMissing,
  runMinimalFloor,
  type MinimalFloorReport,
} from './minimal-floor';
import { savePlans, type PlanSummary } from './plans';
import { describeSustained, runSustained, type SustainedRun } from './sustained';
import { renderReport, routeSummaries, type RouteSummary } from './report';
import { onCleanup } from './processes';
import { startSampling, type Sample } from './sampler';
import { OperationSource, scenario, toHttp, type ScenarioName } from './scenarios';
import {
  clearConversations,
  seedConversations,
  seedMembers,
  type SeedSize,
  type SeedStats,
} from './seed';
import { RAISED_RATE_LIMITS, SHAPES, startService, type Launcher, type Shape } from './service';
import {
  measureIdleStreams,
  measureStreamLatency,
  type IdleStreams,
  type StreamLatency,
} from './streams';
import type { LoadResult } from './stats';

export interface BenchOptions {
  /** Owner URL of the bench's own database (dropped and recreated when `recreate`). */
  ownerUrl: string;
  recreate: boolean;
  redisUrl: string;
  size: SeedSize;
  /** Messages for the growth step (reseeded conversations); null skips it. */
  growTo: number | null;
  users: number;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  growthSeconds: number;
  shapes: Shape[];
  scenarios: ScenarioName[];
  floorPool: number;
  /** How the floor sends statements (default extended: bound parameters). */
  floorProtocol?: FloorProtocol;
  resultsDir: string;
  /** Where to write the EXPLAIN plans (one folder per data-set size); null: not written. */
  plansDir: string | null;
  launcher: Launcher;
  log: (line: string) => void;
  /** Profile the service processes into this folder (see bench/cpu-profiler.ts). */
  cpuProfileDir?: string;
  /** Skip the floor (quick service-only runs). */
  noFloor?: boolean;
  /** Extra environment for the service processes (experiments: LOG_LEVEL, DATABASE_POOL_MAX…). */
  serviceEnv?: Record<string, string>;
  /** How long to watch the idle machine before starting (0: skip). */
  backgroundCheckMs?: number;
  /**
   * Event streams: `streams` open while the send scenario runs (latency to the recipient's
   * stream), then `idleStreams` idle ones (the API process's RSS); 0 skips each. Measured on the
   * production shape when it runs (its API process is the API alone), else the last shape.
   */
  streams?: number;
  /** A second stream run with the sends paced at this rate (0: none). */
  streamRate?: number;
  idleStreams?: number;
  /**
   * The sustained-send run (issue 19): the send scenario for this many seconds with every consumer
   * busy (webhooks to a local receiver, `streams` open), once per entry of `sustainedWorkers`
   * (worker processes of the production shape); 0 skips it.
   */
  sustainedSeconds?: number;
  sustainedWorkers?: number[];
  /**
   * The route scenarios again in the production shape with this many API processes behind nginx
   * (deploy/nginx/nginx.conf) and one worker, once per entry (e.g. [1, 2]); empty or absent: none.
   */
  apiProcesses?: number[];
  /**
   * The minimal floor (SPEC §5): ../shared/floor/run.sh, run for `seconds` a script right before
   * the routes and (with minimalFloorAfter) again after them and ejabberd; null or absent: not run.
   */
  minimalFloor?: string | null;
  minimalFloorAfter?: boolean;
  /**
   * ejabberd's send_message beside the service's send (bench/ejabberd.ts), run after the routes at
   * each of `connections` for `seconds`; null or absent: not run.
   */
  ejabberd?: Pick<
    EjabberdOptions,
    'ctl' | 'url' | 'host' | 'database' | 'keep' | 'connections'
  > | null;
  /** Called after each seeding (the smoke test checks the invariants there). */
  onSeeded?: (stats: SeedStats) => Promise<void>;
}

export type Runner = Shape | 'floor';

export interface Run {
  scenario: ScenarioName;
  runner: Runner;
  /** Messages in the database when the run started. */
  messagesInDb: number;
  result: LoadResult;
  sample: Sample | null;
  lag: LagResult | null;
  /** API processes behind nginx (the apiProcesses runs); absent: one, reached directly. */
  apiProcesses?: number;
}

export interface StreamRun {
  runner: Shape;
  /** At full load, then (when asked) at a paced rate. */
  latency: StreamLatency[];
  idle: IdleStreams | null;
}

export interface PlanSet {
  label: string;
  messages: number;
  summaries: PlanSummary[];
}

export interface BenchReport {
  startedAt: string;
  machine: Machine;
  options: {
    connections: number;
    seconds: number;
    warmupSeconds: number;
    growthSeconds: number;
    users: number;
    floorPool: number;
    floorProtocol: FloorProtocol;
    rateLimits: Record<string, string>;
    serviceEnv: Record<string, string>;
    shapes: Record<string, string>;
  };
  seed: SeedStats;
  growthSeed: SeedStats | null;
  fixtures: { users: number; threads: number; sendable: number; pollable: number };
  runs: Run[];
  growthRuns: Run[];
  streamRuns: StreamRun[];
  sustainedRuns: SustainedRun[];
  /** The route scenarios with N API processes behind nginx (apiProcesses), in its order. */
  apiProcessRuns: Run[];
  /** The minimal floor of this run (before the routes, and after them), or why it is absent. */
  minimalFloor: MinimalFloorReport;
  /** ejabberd's send_message in this run, or why it is absent. */
  ejabberd: EjabberdReport;
  /** Per route and shape: the figures SPEC §5 decides on (as results.md's first table). */
  routes: RouteSummary[];
  plans: PlanSet[];
  totalSeconds: number;
}

const GROWTH_SCENARIOS: ScenarioName[] = ['thread-page', 'thread-list', 'unread-count'];

/** The whole benchmark: seed, floor, each shape of the service, growth. */
export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const started = Date.now();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const runDir = join(o.resultsDir, stamp);
  mkdirSync(runDir, { recursive: true });
  if (o.cpuProfileDir) mkdirSync(o.cpuProfileDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  const tag = randomBytes(3).toString('hex');
  if (o.recreate) {
    o.log(`database: recreating ${new URL(o.ownerUrl).pathname.slice(1)} and migrating`);
    await recreateDatabase(o.ownerUrl);
  }
  const machine = await describeMachine(o.ownerUrl, o.redisUrl);
  const scope = {
    database: databaseName(o.ownerUrl),
    redisPort: Number(new URL(o.redisUrl).port || 6379),
  };
  // Other work on the machine skews every figure: measure it before starting.
  const checkMs = o.backgroundCheckMs ?? 2000;
  if (checkMs > 0) {
    const idle = startSampling(scope);
    await new Promise((r) => setTimeout(r, checkMs));
    const background = idle.stop().cpu.total;
    machine.backgroundCores = background;
    o.log(`background: other processes use ${background.toFixed(2)} of ${machine.cores} cores`);
    if (background > 0.2) {
      o.log('warning: the machine is not idle; figures will be lower than on a quiet machine');
    }
  }
  o.log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB; Node ${machine.node}, ` +
      `PostgreSQL ${machine.postgres}, Redis ${machine.redis}; load average ${machine.loadAverage}`,
  );

  await seedMembers(o.ownerUrl, o.size);
  const seed = await seedConversations(o.ownerUrl, o.size);
  o.log(`seed: ${describeSeed(seed)} in ${seed.seconds.toFixed(1)} s`);
  await o.onSeeded?.(seed);
  let fixtures = await loadFixtures(o.ownerUrl, secret, o.users);
  o.log(
    `load: ${fixtures.users.length} users (one token each), ${fixtures.threads.length} of their ` +
      `threads (${fixtures.sendable.length} sendable, ${fixtures.pollable.length} pollable)`,
  );
  const plans: PlanSet[] = [];
  const plan = async (f: Fixtures, s: SeedStats) => {
    if (!o.plansDir) return;
    const label = sizeLabel(s.messages);
    const summaries = await savePlans(
      o.ownerUrl,
      f,
      join(o.plansDir, label),
      `${describeSeed(s)}; longest thread ${f.heaviestThread.messages} messages, busiest member ${f.busiestMember.threads} threads`,
    );
    plans.push({ label, messages: s.messages, summaries });
    o.log(
      `plans: ${summaries.length} EXPLAIN (ANALYZE, BUFFERS) written to ${join(o.plansDir, label)}`,
    );
  };
  await plan(fixtures, seed);

  const runs: Run[] = [];
  const growthRuns: Run[] = [];
  const streamRuns: StreamRun[] = [];
  const streamShape: Shape | undefined = o.shapes.includes('prod') ? 'prod' : o.shapes.at(-1);
  let sequence = 0;
  const source = (name: ScenarioName, f: Fixtures) =>
    new OperationSource(f, name, `b${tag}${(sequence++).toString(36)}`);

  const floor = async (names: ScenarioName[], f: Fixtures, seconds: number, into: Run[]) => {
    const pool = appPool(o.ownerUrl, o.floorPool);
    try {
      for (const name of names) {
        const messagesInDb = await countMessages(o.ownerUrl);
        if (o.warmupSeconds > 0) {
          await runFloor({
            pool,
            concurrency: o.connections,
            seconds: o.warmupSeconds,
            source: source(name, f),
            protocol: o.floorProtocol,
          });
        }
        const sampling = startSampling(scope);
        const result = await runFloor({
          pool,
          concurrency: o.connections,
          seconds,
          source: source(name, f),
          protocol: o.floorProtocol,
        });
        const sample = sampling.stop();
        if (name === 'send' || name === 'mixed') await settleOutbox(o.ownerUrl);
        into.push({ scenario: name, runner: 'floor', messagesInDb, result, sample, lag: null });
        o.log(line('floor', name, result, sample));
      }
    } finally {
      await pool.end();
    }
  };

  const service = async (
    shape: Shape,
    names: ScenarioName[],
    f: Fixtures,
    seconds: number,
    into: Run[],
    /** API processes behind nginx; absent: one API process, reached directly. */
    apiProcesses?: number,
  ) => {
    const prefix = `bench-${tag}-${shape}-${(sequence++).toString(36)}`;
    const forget = onCleanup(() => clearRedisPrefix(o.redisUrl, prefix));
    const svc = await startService({
      shape,
      ownerUrl: o.ownerUrl,
      redisUrl: o.redisUrl,
      jwtSecret: secret,
      queuePrefix: prefix,
      logDir: apiProcesses ? join(runDir, `api-processes-${apiProcesses}`) : runDir,
      launcher: o.launcher,
      balancedApis: apiProcesses,
      extraEnv: {
        ...o.serviceEnv,
        ...(o.cpuProfileDir ? { BENCH_CPU_PROF_DIR: o.cpuProfileDir } : {}),
      },
    });
    const label = apiProcesses ? `${shape}×${apiProcesses}` : shape;
    o.log(
      `service (${label}): ${SHAPES[shape]}${apiProcesses ? `, ${apiProcesses} API process${apiProcesses === 1 ? '' : 'es'} behind nginx` : ''} on ${svc.url}; logs in ${svc.logFiles.join(', ')}`,
    );
    try {
      await prime(svc.url, f);
      // Warm up (JIT, pools, caches) on the mixed load, then before each scenario on its own;
      // the notifications the warm-ups cause are drained before anything is measured.
      if (o.warmupSeconds > 0) {
        await runHttp({
          url: svc.url,
          connections: o.connections,
          seconds: o.warmupSeconds * 2,
          source: source('mixed', f),
        });
        await drain(o.ownerUrl, new Date(0));
      }
      for (const name of names) {
        const messagesInDb = await countMessages(o.ownerUrl);
        if (o.warmupSeconds > 0) {
          await runHttp({
            url: svc.url,
            connections: o.connections,
            seconds: o.warmupSeconds,
            source: source(name, f),
          });
          if (name === 'send' || name === 'mixed') await drain(o.ownerUrl, new Date(0));
        }
        const sampling = startSampling(scope, {
          api: svc.apis.map((a) => a.pid!),
          worker: svc.worker?.pid,
          balancer: svc.balancer?.pid,
        });
        const since = new Date();
        const result = await runHttp({
          url: svc.url,
          connections: o.connections,
          seconds,
          source: source(name, f),
        });
        const until = new Date();
        const sample = sampling.stop();
        const lag =
          name === 'send' || name === 'mixed'
            ? await notificationLag(o.ownerUrl, since, until)
            : null;
        into.push({
          scenario: name,
          runner: shape,
          messagesInDb,
          result,
          sample,
          lag,
          ...(apiProcesses ? { apiProcesses } : {}),
        });
        o.log(line(label, name, result, sample, lag));
      }
      if (into === runs && shape === streamShape) {
        const streamRun: StreamRun = { runner: shape, latency: [], idle: null };
        if ((o.streams ?? 0) > 0 && o.scenarios.includes('send')) {
          for (const rate of [undefined, ...(o.streamRate ? [o.streamRate] : [])]) {
            await drain(o.ownerUrl, new Date(0));
            const l = await measureStreamLatency({
              url: svc.url,
              ownerUrl: o.ownerUrl,
              secret,
              fixtures: f,
              streams: o.streams!,
              connections: o.connections,
              seconds,
              tag: `${tag}${(sequence++).toString(36)}`,
              rate,
            });
            streamRun.latency.push(l);
            o.log(
              `${shape.padEnd(5)} streams: ${l.streams} open (${l.members} members), ` +
                `${l.sendRps.toFixed(0)} sends/s${rate ? ' (paced)' : ''}; to the recipient's stream p50 ${l.p50.toFixed(1)} ms, ` +
                `p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms; ${l.missing} missing of ${l.samples + l.missing}`,
            );
          }
          await drain(o.ownerUrl, new Date(0));
        }
        if ((o.idleStreams ?? 0) > 0) {
          streamRun.idle = await measureIdleStreams({
            url: svc.url,
            ownerUrl: o.ownerUrl,
            secret,
            apiPid: svc.api.pid!,
            count: o.idleStreams!,
          });
          const i = streamRun.idle;
          o.log(
            `${shape.padEnd(5)} idle streams: ${i.streams} opened in ${i.openSeconds.toFixed(1)} s; ` +
              `API RSS ${i.rssBeforeMiB.toFixed(0)} → ${i.rssAfterMiB.toFixed(0)} MiB ` +
              `(+${i.deltaMiB.toFixed(0)} MiB, ${i.perStreamKiB.toFixed(1)} KiB a stream)`,
          );
        }
        streamRuns.push(streamRun);
      }
    } finally {
      await svc.stop();
      await clearRedisPrefix(o.redisUrl, prefix).catch(() => 0);
      forget();
    }
  };

  if (!o.noFloor) await floor(o.scenarios, fixtures, o.seconds, runs);

  // The minimal floor right before the routes, the same seconds a script as a scenario.
  const scripts = floorScripts(o.scenarios);
  const minimalFloor: MinimalFloorReport = {
    path: null,
    skipped: !o.minimalFloor
      ? 'the minimal floor is not in this run (--no-minimal-floor)'
      : scripts.length === 0
        ? 'the minimal floor is not in this run: no scenario has one'
        : minimalFloorMissing(o.minimalFloor),
    runs: [],
  };
  const minimal = async (when: 'before' | 'after') => {
    if (minimalFloor.skipped || !o.minimalFloor) return;
    try {
      const run = await runMinimalFloor({
        path: o.minimalFloor,
        ownerUrl: o.ownerUrl,
        seconds: o.seconds,
        scripts,
        when,
      });
      minimalFloor.path = o.minimalFloor;
      minimalFloor.runs.push(run);
      o.log(
        `minimal floor (${when} the routes): ` +
          Object.entries(run.figures)
            .map(([k, f]) => `${k} ${f.tps.toFixed(0)} tx/s p99 ${f.p99.toFixed(1)} ms`)
            .join(', ') +
          ` (${run.wallSeconds.toFixed(0)} s in all)`,
      );
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (!minimalFloor.runs.length) minimalFloor.skipped = `the minimal floor failed: ${text}`;
      else (minimalFloor.notes ??= []).push(`the minimal floor ${when} the routes failed: ${text}`);
      o.log(`minimal floor (${when}) failed: ${text}`);
    }
  };
  await minimal('before');
  for (const shape of o.shapes) await service(shape, o.scenarios, fixtures, o.seconds, runs);

  const ejabberd: EjabberdReport = o.ejabberd
    ? await runEjabberd({
        ...o.ejabberd,
        ownerUrl: o.ownerUrl,
        users: o.users,
        seconds: o.seconds,
        warmupSeconds: o.warmupSeconds,
        log: o.log,
      })
    : {
        skipped: 'ejabberd is not in this run (--no-ejabberd)',
        version: null,
        started: false,
        users: 0,
        runs: [],
      };
  if (o.minimalFloorAfter) await minimal('after');
  // The same scenarios against the same floor, with N API processes behind the balancer.
  const apiProcessRuns: Run[] = [];
  for (const n of o.apiProcesses ?? []) {
    await service('prod', o.scenarios, fixtures, o.seconds, apiProcessRuns, n);
  }

  const sustainedRuns: SustainedRun[] = [];
  for (const workers of o.sustainedSeconds ? (o.sustainedWorkers ?? [1]) : []) {
    const prefix = `bench-${tag}-sustained-${(sequence++).toString(36)}`;
    const forget = onCleanup(() => clearRedisPrefix(o.redisUrl, prefix));
    const svc = await startService({
      shape: 'prod',
      ownerUrl: o.ownerUrl,
      redisUrl: o.redisUrl,
      jwtSecret: secret,
      queuePrefix: prefix,
      logDir: join(runDir, `sustained-${workers}`),
      launcher: o.launcher,
      workers,
      // The receiver listens on the loopback interface.
      extraEnv: { ...o.serviceEnv, WEBHOOKS_ALLOW_PRIVATE_URLS: 'true' },
    });
    try {
      await drain(o.ownerUrl, new Date(0));
      const run = await runSustained({
        svc,
        ownerUrl: o.ownerUrl,
        secret,
        scope,
        fixtures,
        connections: o.connections,
        seconds: o.sustainedSeconds!,
        streams: o.streams ?? 0,
        tag: `${tag}${(sequence++).toString(36)}`,
      });
      sustainedRuns.push(run);
      o.log(describeSustained(run));
    } finally {
      await svc.stop();
      await clearRedisPrefix(o.redisUrl, prefix).catch(() => 0);
      forget();
    }
  }

  let growthSeed: SeedStats | null = null;
  if (o.growTo && o.growTo > seed.messages) {
    await clearConversations(o.ownerUrl);
    growthSeed = await seedConversations(o.ownerUrl, { ...o.size, messages: o.growTo });
    o.log(`growth: reseeded ${describeSeed(growthSeed)} in ${growthSeed.seconds.toFixed(1)} s`);
    await o.onSeeded?.(growthSeed);
    fixtures = await loadFixtures(o.ownerUrl, secret, o.users);
    await plan(fixtures, growthSeed);
    const names = GROWTH_SCENARIOS.filter((n) => o.scenarios.includes(n));
    const shape = o.shapes[0] ?? 'dev';
    await service(shape, names, fixtures, o.growthSeconds, growthRuns);
    if (!o.noFloor) await floor(names, fixtures, o.growthSeconds, growthRuns);
  }

  const report: BenchReport = {
    startedAt: new Date(started).toISOString(),
    machine,
    options: {
      connections: o.connections,
      seconds: o.seconds,
      warmupSeconds: o.warmupSeconds,
      growthSeconds: o.growthSeconds,
      users: o.users,
      floorPool: o.floorPool,
      floorProtocol: o.floorProtocol ?? 'prepared',
      rateLimits: RAISED_RATE_LIMITS,
      serviceEnv: o.serviceEnv ?? {},
      shapes: SHAPES,
    },
    seed,
    growthSeed,
    fixtures: {
      users: fixtures.users.length,
      threads: fixtures.threads.length,
      sendable: fixtures.sendable.length,
      pollable: fixtures.pollable.length,
    },
    runs,
    growthRuns,
    streamRuns,
    sustainedRuns,
    apiProcessRuns,
    minimalFloor,
    ejabberd,
    routes: [],
    plans,
    totalSeconds: (Date.now() - started) / 1000,
  };
  report.routes = routeSummaries(report);
  writeFileSync(join(runDir, 'results.json'), JSON.stringify(report, null, 2));
  writeFileSync(join(runDir, 'results.md'), renderReport(report));
  o.log(`results: ${join(runDir, 'results.md')} and results.json`);
  return report;
}

/**
 * One request of each kind, in turn, before any load: a wrong token, fixture or route fails the
 * run here with the service's answer rather than as a column of non-2xx counts.
 */
async function prime(url: string, f: Fixtures): Promise<void> {
  for (const name of [
    'send',
    'thread-page',
    'after-poll',
    'thread-list',
    'unread-count',
  ] as const) {
    const request = toHttp(new OperationSource(f, name, `prime-${Date.now()}`).next());
    const response = await fetch(`${url}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    if (!response.ok) {
      throw new Error(
        `${request.method} ${request.path} answered ${response.status}: ${await response.text()}`,
      );
    }
  }
}

async function countMessages(ownerUrl: string): Promise<number> {
  return withOwner(ownerUrl, async (c) => {
    const { rows } = await c.query<{ n: number }>(
      `select coalesce(sum(last_seq), 0)::int as n from message_threads`,
    );
    return rows[0].n;
  });
}

export function sizeLabel(messages: number): string {
  if (messages >= 1_000_000 && messages % 1_000_000 === 0)
    return `${messages / 1_000_000}m-messages`;
  if (messages >= 1000 && messages % 1000 === 0) return `${messages / 1000}k-messages`;
  return `${messages}-messages`;
}

function describeSeed(s: SeedStats): string {
  return (
    `${s.orgs} orgs, ${s.members} members, ${s.threads} threads, ${s.messages} messages, ` +
    `${s.reads} read ranges, ${s.blocks} blocks, ${s.notifications} notifications`
  );
}

function line(
  runner: string,
  name: ScenarioName,
  r: LoadResult,
  sample: Sample | null,
  lag?: LagResult | null,
): string {
  const parts = [
    `${runner.padEnd(5)} ${scenario(name).label.padEnd(30)}`,
    `${r.rps.toFixed(0).padStart(6)} req/s`,
    `p50 ${r.p50.toFixed(1)} p90 ${r.p90.toFixed(1)} p99 ${r.p99.toFixed(1)} ms`,
    `non-2xx ${r.non2xx} errors ${r.errors}`,
  ];
  if (sample?.apiPeakRssMb) parts.push(`API RSS ${sample.apiPeakRssMb.toFixed(0)} MB`);
  if (lag?.p99Ms != null)
    parts.push(`lag p50 ${lag.p50Ms!.toFixed(0)} p99 ${lag.p99Ms.toFixed(0)} ms`);
  if (r.samples.length) parts.push(`e.g. ${r.samples[0]}`);
  return parts.join(' | ');
}

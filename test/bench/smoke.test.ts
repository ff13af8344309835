import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabaseFromTemplate, dropDatabase } from '../../src/platform/database/bootstrap';
import { runBench, type BenchReport } from '../../bench/harness';
import { checkInvariants } from '../../bench/invariants';
import { stopAll } from '../../bench/processes';
import { renderReport } from '../../bench/report';
import { SCENARIOS } from '../../bench/scenarios';
import type { Launcher } from '../../bench/service';
import { OWNER_URL, REDIS_URL, runId, templateDb, urlFor } from '../support/env';

/** The service from its sources (the smoke must not depend on a build). */
const sourceLauncher: Launcher = (entry) => ({
  command: process.execPath,
  args: ['-r', '@swc-node/register', join(__dirname, '../../src', `${entry}.ts`)],
});

/**
 * The bench harness end to end on a tiny data set, half a second per scenario: seeding
 * (and its invariants), the floor, the npm-start shape, the notification lag, the growth step and
 * the plans. The figures themselves are never asserted.
 */
describe('bench harness (smoke)', () => {
  const database = `rm_t_${runId()}_bench_${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'rm-bench-'));
  // Stands in for ../shared/floor/run.sh (whose seeding alone outlasts this test), printing what
  // run.sh prints, a different rate per script, and recording how it was called.
  const minimalFloor = join(dir, 'floor.sh');
  writeFileSync(
    minimalFloor,
    [
      'echo "$1|$2|$FLOOR_PG_URL" >> "$(dirname "$0")/floor-calls"',
      'declare -A tps=([send]=1000 [page]=2000 [unread]=4000)',
      'for s in $2; do echo "floor $s ${tps[$s]} tx/s p50 1.50 p99 3.25"; done',
      'echo "floor done"',
      '',
    ].join('\n'),
  );
  let report: BenchReport;
  const broken: Record<string, number>[] = [];

  beforeAll(async () => {
    await createDatabaseFromTemplate(OWNER_URL, database, templateDb());
    const ownerUrl = urlFor(database);
    report = await runBench({
      ownerUrl,
      recreate: false,
      redisUrl: REDIS_URL,
      size: { orgs: 2, membersPerOrg: 12, threadsPerOrg: 20, messages: 400 },
      growTo: 800,
      users: 12,
      connections: 4,
      seconds: 0.5,
      warmupSeconds: 0,
      growthSeconds: 0.5,
      shapes: ['dev'],
      scenarios: SCENARIOS.map((s) => s.name),
      floorPool: 4,
      resultsDir: join(dir, 'results'),
      plansDir: join(dir, 'plans'),
      launcher: sourceLauncher,
      backgroundCheckMs: 0,
      streams: 8,
      idleStreams: 20,
      streamRate: 20,
      sustainedSeconds: 2,
      sustainedWorkers: [1],
      apiProcesses: [2],
      minimalFloor,
      minimalFloorAfter: true,
      // ejabberd is not started here (it takes seconds to start): the results say so.
      ejabberd: null,
      // Quiet unless asked (BENCH_SMOKE_LOG=1): the figures of a tiny run are no one's business.
      log: (l) => {
        if (process.env.BENCH_SMOKE_LOG)
          process.stderr.write(`${(performance.now() / 1000).toFixed(1)} ${l.slice(0, 100)}\n`);
      },
      onSeeded: async () => {
        broken.push(await checkInvariants(ownerUrl));
      },
    });
  }, 200_000);

  afterAll(async () => {
    await stopAll();
    await dropDatabase(urlFor(database), database);
    rmSync(dir, { recursive: true, force: true });
  });

  it('seeds data that keeps every invariant the service relies on', () => {
    expect(report.seed).toMatchObject({ orgs: 2, members: 24, threads: 40, messages: 400 });
    expect(report.growthSeed?.messages).toBe(800);
    expect(broken).toEqual([{}, {}]);
  });

  it('measures every scenario against the service and its floor, without failures', () => {
    for (const runner of ['floor', 'dev'] as const) {
      for (const s of SCENARIOS) {
        const run = report.runs.find((r) => r.runner === runner && r.scenario === s.name);
        expect(run?.result.completed).toBeGreaterThan(0);
        expect({
          runner,
          scenario: s.name,
          failed: run!.result.non2xx + run!.result.errors,
        }).toEqual({ runner, scenario: s.name, failed: 0 });
      }
    }
    const send = report.runs.find((r) => r.runner === 'dev' && r.scenario === 'send')!;
    expect(send.sample?.apiPeakRssMb).toBeGreaterThan(0);
    expect(send.lag?.events).toBeGreaterThan(0);
    expect(send.lag?.p99Ms).not.toBeNull();
  });

  it('runs the minimal floor before and after the routes and reports each route’s ratios to both floors', () => {
    // Called twice, for the scenarios' seconds, with the scripts the routes need, on our server.
    const calls = readFileSync(join(dir, 'floor-calls'), 'utf8').trim().split('\n');
    expect(calls).toEqual([
      `0.5|send page unread|${OWNER_URL.replace(/\/[^/]*$/, '')}`,
      expect.stringMatching(/^0\.5\|send page unread\|/),
    ]);
    expect(report.minimalFloor.runs.map((r) => r.when)).toEqual(['before', 'after']);
    const route = (name: string) =>
      report.routes.find((r) => r.shape === 'dev' && r.scenario === name)!;
    for (const [name, script, tps, ratio] of [
      ['send', 'send', 1000, 0.5],
      ['thread-page', 'page', 2000, 0.5],
      ['unread-count', 'unread', 4000, 0.5],
      ['thread-list', 'page', 2000, 0.3],
    ] as const) {
      const r = route(name);
      expect(r).toMatchObject({
        minimalFloorScript: script,
        minimalFloorTps: tps,
        minimalFloorTarget: ratio,
      });
      expect(r.minimalFloorRatio).toBeCloseTo(r.rps / tps, 6);
      expect(r.ownFloorRatio).toBeCloseTo(r.rps / r.ownFloorRps!, 6);
    }
    expect(route('mixed').minimalFloorRatio).toBeNull();
    const md = readFileSync(
      join(dir, 'results', readdirSync(join(dir, 'results'))[0], 'results.md'),
      'utf8',
    );
    // The results table: per route both floors and both ratios, as numbers.
    const head = md
      .split('\n')
      .find((l) => l.startsWith('| scenario | shape | req/s'))!
      .split(' | ');
    const send = md
      .split('\n')
      .find((l) => l.startsWith('| send message | dev |'))!
      .split(' | ');
    const cell = (name: string) => send[head.indexOf(name)];
    expect(cell('route / own floor')).toMatch(/^\d+\.\d\d$/);
    expect(cell('minimal floor tx/s')).toBe('1000 (send)');
    expect(cell('route / minimal floor')).toMatch(/^\d+\.\d\d$/);
    expect(cell('SPEC §5 target')).toBe('≥ 0.5 × send floor, ≥ 0.5 × own floor, p99 < 50 ms');
    expect(md).toContain('| send | 1000 | 1.5 | 3.3 | 1000 | 1.5 | 3.3 | +0 % |');
    expect(md).toContain('_ejabberd is not in this run (--no-ejabberd)._');
    const json = JSON.parse(
      readFileSync(
        join(dir, 'results', readdirSync(join(dir, 'results'))[0], 'results.json'),
        'utf8',
      ),
    );
    expect(json.routes).toHaveLength(report.routes.length);
  });

  it('times sends to the recipients’ open streams (none missing) and weighs idle streams', () => {
    expect(report.streamRuns).toHaveLength(1);
    const [{ runner, latency, idle }] = report.streamRuns;
    expect(runner).toBe('dev');
    // At full speed, then paced.
    expect(latency.map((l) => l.paced)).toEqual([null, 20]);
    for (const l of latency) {
      expect(l.streams).toBe(8);
      expect(l.samples).toBeGreaterThan(0);
      expect(l.missing).toBe(0);
    }
    expect(idle?.streams).toBe(20);
    expect(idle?.rssAfterMiB).toBeGreaterThan(0);
    expect(renderReport(report)).toContain('## Event streams');
  });

  it('sustains a send with every consumer busy: webhooks reach the receiver, every stage drains', () => {
    expect(report.sustainedRuns).toHaveLength(1);
    const [run] = report.sustainedRuns;
    expect(run.workers).toBe(1);
    expect(run.endpoints).toBe(2);
    expect(run.send.completed).toBeGreaterThan(0);
    expect(run.send.non2xx + run.send.errors).toBe(0);
    expect(run.received).toBeGreaterThan(0);
    expect(run.stages.relay.completed).toBeGreaterThan(0);
    expect(run.stages.webhooks.completed).toBeGreaterThan(0);
    expect(run.stages.deliveries.completed).toBeGreaterThan(0);
    expect(run.drainSeconds).not.toBeNull();
    expect(run.timeline.length).toBeGreaterThan(0);
    expect(renderReport(report)).toContain('## Sustained send');
    expect(renderReport(report)).toContain('Oldest pending item (s) over time, 1 worker');
  });

  it('runs the scenarios again with two API processes behind nginx, both serving', () => {
    for (const s of SCENARIOS) {
      const run = report.apiProcessRuns.find((r) => r.scenario === s.name);
      expect(run?.apiProcesses).toBe(2);
      expect(run?.result.completed).toBeGreaterThan(0);
      expect({ scenario: s.name, failed: run!.result.non2xx + run!.result.errors }).toEqual({
        scenario: s.name,
        failed: 0,
      });
    }
    const [stamp] = readdirSync(join(dir, 'results'));
    const log = readFileSync(
      join(dir, 'results', stamp, 'api-processes-2', 'prod-nginx', 'access.log'),
      'utf8',
    );
    expect(new Set([...log.matchAll(/ upstream=(\S+) /g)].map((m) => m[1])).size).toBe(2);
    expect(renderReport(report)).toContain('## API processes behind nginx');
    expect(renderReport(report)).toMatch(/\| send message \| 2 \| \d+ \|/);
  });

  it('repeats the hot reads at the larger size and saves their plans', () => {
    expect(report.growthRuns.map((r) => `${r.runner}:${r.scenario}`).sort()).toEqual([
      'dev:thread-list',
      'dev:thread-page',
      'dev:unread-count',
      'floor:thread-list',
      'floor:thread-page',
      'floor:unread-count',
    ]);
    for (const run of report.growthRuns) expect(run.result.completed).toBeGreaterThan(0);
    for (const label of ['400-messages', '800-messages']) {
      const files = readdirSync(join(dir, 'plans', label));
      expect(files).toEqual(
        expect.arrayContaining([
          'thread-view.txt',
          'thread-list.txt',
          'unread-count.txt',
          'send.txt',
        ]),
      );
    }
    expect(renderReport(report)).toContain('| send message | dev |');
    expect(existsSync(join(dir, 'results'))).toBe(true);
  });
});

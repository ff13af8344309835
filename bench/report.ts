import type { BenchReport, Run, Runner } from './harness';
import { SCENARIOS, scenario, type ScenarioName } from './scenarios';
import { STAGES } from './sustained';

const RSS_LIMIT_MB = 300;
const LAG_P99_LIMIT_MS = 1000;
const FLOOR_RATIO = 0.5;

function table(head: string[], rows: (string | number)[][]): string {
  const lines = [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
  return lines.join('\n');
}

const int = (n: number | null | undefined) => (n == null || Number.isNaN(n) ? '–' : n.toFixed(0));
const one = (n: number | null | undefined) => (n == null || Number.isNaN(n) ? '–' : n.toFixed(1));
const two = (n: number | null | undefined) => (n == null || Number.isNaN(n) ? '–' : n.toFixed(2));

function find(runs: Run[], name: ScenarioName, runner: Runner): Run | undefined {
  return runs.find((r) => r.scenario === name && r.runner === runner);
}

/** Whether a route run meets SPEC §5, and why not. */
export function verdict(run: Run, floor: Run | undefined): { holds: boolean; why: string[] } {
  const target = scenario(run.scenario).target;
  const why: string[] = [];
  const r = run.result;
  if (target.rps !== undefined && r.rps < target.rps)
    why.push(`${int(r.rps)} < ${target.rps} req/s`);
  if (target.p99Ms !== undefined && !(r.p99 < target.p99Ms))
    why.push(`p99 ${one(r.p99)} ≥ ${target.p99Ms} ms`);
  if (floor && r.rps / floor.result.rps < FLOOR_RATIO) {
    why.push(`${two(r.rps / floor.result.rps)} of the floor < ${FLOOR_RATIO}`);
  }
  const rss = run.sample?.apiPeakRssMb;
  if (rss != null && rss >= RSS_LIMIT_MB) why.push(`RSS ${int(rss)} ≥ ${RSS_LIMIT_MB} MB`);
  if (r.non2xx + r.errors > 0) why.push(`${r.non2xx + r.errors} failed requests`);
  if (run.lag?.p99Ms != null && run.lag.p99Ms >= LAG_P99_LIMIT_MS) {
    why.push(`notification lag p99 ${int(run.lag.p99Ms)} ≥ ${LAG_P99_LIMIT_MS} ms`);
  }
  return { holds: why.length === 0, why };
}

function targetText(name: ScenarioName): string {
  const t = scenario(name).target;
  const parts: string[] = [];
  if (t.rps !== undefined) parts.push(`≥ ${t.rps} req/s`);
  if (t.p99Ms !== undefined) parts.push(`p99 < ${t.p99Ms} ms`);
  return parts.length ? parts.join(', ') : '–';
}

export function resultsTable(report: BenchReport): string {
  const rows: (string | number)[][] = [];
  const shapes = [...new Set(report.runs.map((r) => r.runner).filter((r) => r !== 'floor'))];
  for (const shape of shapes) {
    for (const s of SCENARIOS) {
      const run = find(report.runs, s.name, shape);
      if (!run) continue;
      const floor = find(report.runs, s.name, 'floor');
      const r = run.result;
      const v = verdict(run, floor);
      rows.push([
        s.label,
        shape,
        int(r.rps),
        one(r.p50),
        one(r.p90),
        one(r.p99),
        `${r.non2xx} / ${r.errors}`,
        int(run.sample?.apiPeakRssMb),
        floor ? int(floor.result.rps) : '–',
        floor ? one(floor.result.p99) : '–',
        floor ? two(r.rps / floor.result.rps) : '–',
        targetText(s.name),
        v.holds ? '**yes**' : `**no**: ${v.why.join('; ')}`,
      ]);
    }
  }
  return table(
    [
      'scenario',
      'shape',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'non-2xx / errors',
      'API peak RSS MB',
      'floor req/s',
      'floor p99 ms',
      'route / floor',
      'SPEC §5 target',
      'holds',
    ],
    rows,
  );
}

export function cpuTable(runs: Run[], cores: number): string {
  const rows = runs
    .filter((r) => r.sample)
    .map((r) => {
      const c = r.sample!.cpu;
      const perRequest = (coresUsed: number) => (coresUsed * 1000) / r.result.rps;
      const ours = c.api + c.worker + c.bench + c.postgres + c.redis;
      return [
        scenario(r.scenario).label,
        r.runner,
        two(c.api),
        two(c.worker),
        two(c.bench),
        two(c.postgres),
        two(c.redis),
        two(c.other),
        two(c.total),
        two(perRequest(c.api + c.worker)),
        two(perRequest(c.postgres)),
        two(perRequest(ours)),
        int((cores * r.result.rps) / ours),
      ];
    });
  return table(
    [
      'scenario',
      'runner',
      'API',
      'worker',
      'load generator',
      'PostgreSQL',
      'Redis',
      'other',
      'machine',
      'service CPU ms/req',
      'PostgreSQL CPU ms/req',
      'all CPU ms/req',
      `req/s if all ${cores} cores were ours`,
    ],
    rows,
  );
}

export function lagTable(runs: Run[]): string {
  const rows = runs
    .filter((r) => r.lag)
    .map((r) => {
      const l = r.lag!;
      return [
        scenario(r.scenario).label,
        r.runner,
        l.events,
        l.pendingAtEnd,
        l.drainSeconds == null ? 'not drained in 60 s' : one(l.drainSeconds),
        int(l.p50Ms),
        int(l.p90Ms),
        int(l.p99Ms),
        int(l.maxMs),
        `${int(l.relayP50Ms)} / ${int(l.relayP99Ms)}`,
        l.p99Ms != null && l.p99Ms < LAG_P99_LIMIT_MS ? '**yes**' : '**no**',
      ];
    });
  return table(
    [
      'scenario',
      'shape',
      'events',
      'pending at end',
      'drain s',
      'lag p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'relay p50 / p99 ms',
      'p99 < 1 s',
    ],
    rows,
  );
}

export function growthTable(report: BenchReport): string {
  if (!report.growthRuns.length) return '_(growth step skipped)_';
  const shape = report.growthRuns.find((r) => r.runner !== 'floor')?.runner ?? 'dev';
  const rows: (string | number)[][] = [];
  for (const name of ['thread-page', 'thread-list', 'unread-count'] as ScenarioName[]) {
    const small = find(report.runs, name, shape);
    const large = find(report.growthRuns, name, shape);
    const smallFloor = find(report.runs, name, 'floor');
    const largeFloor = find(report.growthRuns, name, 'floor');
    if (!large) continue;
    rows.push([
      scenario(name).label,
      `${int(small?.result.rps)} → ${int(large.result.rps)}`,
      `${one(small?.result.p99)} → ${one(large.result.p99)}`,
      `${int(smallFloor?.result.rps)} → ${int(largeFloor?.result.rps)}`,
      `${one(smallFloor?.result.p99)} → ${one(largeFloor?.result.p99)}`,
      `${(small?.messagesInDb ?? 0).toLocaleString('en')} → ${large.messagesInDb.toLocaleString('en')}`,
    ]);
  }
  return table(
    [
      'scenario',
      `${shape} req/s (small → large)`,
      `${shape} p99 ms`,
      'floor req/s',
      'floor p99 ms',
      'messages in the database',
    ],
    rows,
  );
}

export function plansTable(report: BenchReport): string {
  if (report.plans.length === 0) return '_(plans not written)_';
  const names = [...new Set(report.plans.flatMap((p) => p.summaries.map((s) => s.name)))];
  const rows = names.map((name) => {
    const cells = report.plans.map((p) => {
      const s = p.summaries.find((x) => x.name === name);
      return s
        ? `${s.planningMs.toFixed(3)} + ${s.executionMs.toFixed(3)} ms, ${s.buffers} buffers`
        : '–';
    });
    const seq = [
      ...new Set(
        report.plans.flatMap((p) => p.summaries.find((x) => x.name === name)?.seqScans ?? []),
      ),
    ];
    return [name, ...cells, seq.length ? seq.join(', ') : 'none'];
  });
  return table(['statement', ...report.plans.map((p) => p.label), 'sequential scans'], rows);
}

/**
 * SPEC §5: with 1,000 open streams, a sent message on the recipient's stream within 250 ms (p99)
 * at the send load; 10,000 idle streams cost the API process at most 200 MB more RSS.
 */
export function streamsTable(report: BenchReport): string {
  const rows: string[][] = [];
  for (const run of report.streamRuns) {
    for (const l of run.latency) {
      rows.push([
        run.runner,
        `${l.streams} streams (${l.members} members) during the send load${l.paced ? ` paced at ${l.paced}/s` : ' (64 connections, as fast as they go)'}, ${l.sendRps.toFixed(0)} sends/s`,
        `send → recipient's stream p50 ${two(l.p50)} ms, p90 ${two(l.p90)} ms, p99 ${two(l.p99)} ms, max ${two(l.max)} ms (p99 from the response ${two(l.p99FromResponse)} ms); ${l.samples} deliveries, ${l.missing} missing`,
        l.p99 <= 250 && l.missing === 0
          ? 'holds (p99 < 250 ms)'
          : 'MISSED (p99 < 250 ms, none missing)',
      ]);
    }
    const i = run.idle;
    if (i) {
      rows.push([
        run.runner,
        `${i.streams} idle streams (${i.members} members), opened in ${i.openSeconds.toFixed(1)} s`,
        `API RSS ${i.rssBeforeMiB.toFixed(0)} → ${i.rssAfterMiB.toFixed(0)} MiB: +${i.deltaMiB.toFixed(0)} MiB (${i.perStreamKiB.toFixed(1)} KiB a stream)`,
        i.deltaMiB * 1.048576 <= 200 ? 'holds (≤ 200 MB)' : 'MISSED (≤ 200 MB)',
      ]);
    }
  }
  if (!rows.length) return 'Not measured in this run.';
  return table(['shape', 'load', 'measured', 'SPEC §5'], rows);
}

/** The sustained runs (issue 19): per stage, what it completed a second and its oldest item. */
export function sustainedTable(report: BenchReport): string {
  const runs = report.sustainedRuns ?? [];
  if (!runs.length) return 'Not measured in this run.';
  const rows: string[][] = [];
  for (const r of runs) {
    const head = `${r.workers} worker${r.workers > 1 ? 's' : ''}: ${r.send.rps.toFixed(0)} sends/s (p99 ${one(r.send.p99)} ms) for ${r.seconds.toFixed(0)} s, ${r.endpoints} endpoints, ${r.streams} streams`;
    for (const stage of STAGES) {
      const f = r.stages[stage];
      rows.push([
        head,
        stage,
        int(f.perSecond),
        one(f.steadyMaxAge),
        one(f.maxAge),
        int(f.pendingAtEnd),
      ]);
    }
    rows.push([
      head,
      'all',
      '',
      '',
      '',
      `drained ${r.drainSeconds === null ? 'NOT within the wait' : `${one(r.drainSeconds)} s after the load`}; worker CPU ${two(r.workerCpuMsPerItem)} ms an item (${two(r.sample.cpu.worker)} cores); steady state from ${r.rampSeconds} s`,
    ]);
  }
  const summary = table(
    [
      'run',
      'stage',
      'completed/s',
      `oldest pending, steady max (s)`,
      'oldest, max (s)',
      'pending at the end',
    ],
    rows,
  );
  // The oldest pending item of each stage over time, every 10 s (load, then drain).
  const timelines = runs.map((r) => {
    const points = r.timeline.filter(
      (p, i) => i === 0 || Math.floor(p.t / 10) > Math.floor(r.timeline[i - 1].t / 10),
    );
    return [
      `Oldest pending item (s) over time, ${r.workers} worker${r.workers > 1 ? 's' : ''} (the load stops at ${r.seconds.toFixed(0)} s):`,
      '',
      table(
        ['t (s)', ...STAGES],
        points.map((p) => [p.t.toFixed(0), ...STAGES.map((stage) => one(p.stages[stage].oldest))]),
      ),
    ].join('\n');
  });
  return [summary, ...timelines].join('\n\n');
}

/**
 * The route scenarios with N API processes behind nginx (--api-processes), side by side per
 * scenario, against the same floor; `× first` compares each with the first N of the list.
 */
export function apiProcessesTable(report: BenchReport): string {
  const runs = report.apiProcessRuns ?? [];
  if (!runs.length) return 'Not run (--api-processes).';
  const counts = [...new Set(runs.map((r) => r.apiProcesses ?? 1))];
  const rows: (string | number)[][] = [];
  for (const s of SCENARIOS) {
    const first = runs.find((r) => r.scenario === s.name && r.apiProcesses === counts[0]);
    for (const n of counts) {
      const run = runs.find((r) => r.scenario === s.name && r.apiProcesses === n);
      if (!run) continue;
      const floor = find(report.runs, s.name, 'floor');
      const r = run.result;
      const c = run.sample?.cpu;
      rows.push([
        s.label,
        n,
        int(r.rps),
        one(r.p50),
        one(r.p99),
        `${r.non2xx} / ${r.errors}`,
        two(c?.api),
        two(c?.balancer),
        two(c?.worker),
        two(c?.postgres),
        two(c?.total),
        floor ? int(floor.result.rps) : '–',
        floor ? two(r.rps / floor.result.rps) : '–',
        first ? two(r.rps / first.result.rps) : '–',
      ]);
    }
  }
  return table(
    [
      'scenario',
      'API processes',
      'req/s',
      'p50 ms',
      'p99 ms',
      'non-2xx / errors',
      'API cores (all)',
      'nginx cores',
      'worker cores',
      'PostgreSQL cores',
      'machine cores',
      'floor req/s',
      'route / floor',
      `× ${counts[0]} process${counts[0] === 1 ? '' : 'es'}`,
    ],
    rows,
  );
}

export function renderReport(report: BenchReport): string {
  const m = report.machine;
  const o = report.options;
  const s = report.seed;
  return [
    `# Bench run ${report.startedAt}`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM; Node ${m.node}, PostgreSQL ${m.postgres}, ` +
      `Redis ${m.redis}; load average at start ${m.loadAverage}; other processes used ` +
      `${two(m.backgroundCores)} cores just before the run.`,
    '',
    `Data set: ${s.orgs} orgs, ${s.members} members, ${s.threads} threads, ${s.messages} messages ` +
      `(longest thread ${s.longestThread}), ${s.reads} read ranges, ${s.blocks} blocks, ` +
      `${s.notifications} notifications; seeded in ${s.seconds.toFixed(1)} s.`,
    `Load: ${o.connections} connections, ${report.fixtures.users} users with a token each, ` +
      `${report.fixtures.threads} of their threads; ${o.warmupSeconds} s warm-up and ${o.seconds} s measured ` +
      `per scenario; floor: ${o.connections} concurrent callers sharing a node-postgres pool of ${o.floorPool} ` +
      `(as the service's ${o.connections} connections share its pool), ` +
      `${
        o.floorProtocol === 'simple'
          ? 'parameters inlined (simple protocol)'
          : o.floorProtocol === 'extended'
            ? 'bound parameters, unnamed statements (extended protocol)'
            : 'named prepared statements (as the service sends them)'
      }. ` +
      `Rate limits raised: ${Object.entries(o.rateLimits)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}.` +
      (Object.keys(o.serviceEnv).length
        ? ` Service environment for this run: ${Object.entries(o.serviceEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}.`
        : ''),
    '',
    '## Results',
    '',
    resultsTable(report),
    '',
    '## Where the CPU went',
    '',
    `Cores used by each process group during the measured seconds (of ${m.cores}), sampled from /proc; ` +
      '"other" is everything else on the machine (other users\' processes included). The last ' +
      "columns divide by the throughput: CPU milliseconds per request, and the rate the bench's own " +
      'processes could reach with the whole machine (a projection that assumes CPU is the only limit).',
    '',
    cpuTable([...report.runs, ...report.growthRuns], m.cores),
    '',
    '## Notification lag',
    '',
    lagTable(report.runs),
    '',
    '## Event streams',
    '',
    streamsTable(report),
    '',
    '## Sustained send (every consumer busy)',
    '',
    'The send scenario at full rate with a webhook endpoint per org (every event type, a local ' +
      'receiver answering 204) and event streams open; every second the backlog of each stage: ' +
      'the relay (events not yet published), the notifications, webhooks (fan-out) and events ' +
      '(stream) consumers, and webhook deliveries not yet succeeded. The target (issue 19): every ' +
      "stage's oldest pending item under 5 s in steady state, and two workers completing more than one.",
    '',
    sustainedTable(report),
    '',
    '## API processes behind nginx',
    '',
    'The route scenarios again in the production shape (one worker) with N API processes behind ' +
      'nginx running deploy/nginx/nginx.conf (round robin, keep-alive to the upstreams, every ' +
      'request logged), as `docker compose --profile scaled` runs them; the load generator talks ' +
      'to nginx. The floor is the one above. nginx\'s CPU is its own column (not in "other").',
    '',
    apiProcessesTable(report),
    '',
    '## Growth',
    '',
    report.growthSeed
      ? `Reseeded with ${report.growthSeed.messages} messages (longest thread ${report.growthSeed.longestThread}) in ${report.growthSeed.seconds.toFixed(1)} s; ${o.growthSeconds} s per scenario.`
      : '',
    '',
    growthTable(report),
    '',
    '### EXPLAIN (ANALYZE, BUFFERS), warm',
    '',
    'Planning + execution time and shared buffers touched, per statement, for the longest thread ' +
      'and the member with the most threads; the plans are under bench/plans/.',
    '',
    plansTable(report),
    '',
    `Total: ${report.totalSeconds.toFixed(0)} s.`,
    '',
  ].join('\n');
}

import { archiveHolds } from './ejabberd';
import type { BenchReport, Run, Runner } from './harness';
import { MINIMAL_FLOOR_TARGETS, type FloorScript } from './minimal-floor';
import { SCENARIOS, scenario, type ScenarioName } from './scenarios';
import { STAGES } from './sustained';

const RSS_LIMIT_MB = 300;
const LAG_P99_LIMIT_MS = 1000;

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

/** The ratio to the service's own floor SPEC §5 asks of every route. */
const OWN_FLOOR_RATIO = 0.5;

/** The minimal floor a route is compared with (from the run right before the routes). */
export function minimalFloorOf(
  report: Pick<BenchReport, 'minimalFloor'>,
  name: ScenarioName,
): { script: FloorScript; ratio: number; tps: number; p99: number } | null {
  const target = MINIMAL_FLOOR_TARGETS[name];
  const run = report.minimalFloor?.runs.find((r) => r.when === 'before');
  const figure = target && run?.figures[target.script];
  return target && figure ? { ...target, tps: figure.tps, p99: figure.p99 } : null;
}

/** The best send rate ejabberd reached with every accepted send archived, or null. */
export function ejabberdBest(
  report: Pick<BenchReport, 'ejabberd'>,
): { rps: number; connections: number } | null {
  const runs = (report.ejabberd?.runs ?? []).filter(archiveHolds);
  if (!runs.length) return null;
  const best = runs.reduce((a, b) => (b.result.rps > a.result.rps ? b : a));
  return { rps: best.result.rps, connections: best.connections };
}

/**
 * Whether a route run meets SPEC §5, and why not: the ratios measured in this run (at least
 * 0.5 × the minimal floor, the thread list 0.3 × the page floor; at least 0.5 × the service's own
 * floor; a send at least ejabberd's rate), p99, RSS, failures and notification lag. The absolute
 * req/s of §5 are the goal on a quiet machine and do not decide here (the machine's speed varies
 * from day to day); a floor not measured in the run is not checked.
 */
export function verdict(
  run: Run,
  floor: Run | undefined,
  report?: Pick<BenchReport, 'minimalFloor' | 'ejabberd'>,
): { holds: boolean; why: string[] } {
  const target = scenario(run.scenario).target;
  const why: string[] = [];
  const r = run.result;
  const minimal = report ? minimalFloorOf(report, run.scenario) : null;
  if (minimal && r.rps / minimal.tps < minimal.ratio) {
    why.push(`${two(r.rps / minimal.tps)} of the ${minimal.script} floor < ${minimal.ratio}`);
  }
  if (floor && r.rps / floor.result.rps < OWN_FLOOR_RATIO) {
    why.push(`${two(r.rps / floor.result.rps)} of its own floor < ${OWN_FLOOR_RATIO}`);
  }
  const ejabberd = run.scenario === 'send' && report ? ejabberdBest(report) : null;
  if (ejabberd && r.rps < ejabberd.rps) {
    why.push(`${int(r.rps)} < ejabberd's ${int(ejabberd.rps)} sends/s`);
  }
  if (target.p99Ms !== undefined && !(r.p99 < target.p99Ms))
    why.push(`p99 ${one(r.p99)} ≥ ${target.p99Ms} ms`);
  const rss = run.sample?.apiPeakRssMb;
  if (rss != null && rss >= RSS_LIMIT_MB) why.push(`RSS ${int(rss)} ≥ ${RSS_LIMIT_MB} MB`);
  if (r.non2xx + r.errors > 0) why.push(`${r.non2xx + r.errors} failed requests`);
  if (run.lag?.p99Ms != null && run.lag.p99Ms >= LAG_P99_LIMIT_MS) {
    why.push(`notification lag p99 ${int(run.lag.p99Ms)} ≥ ${LAG_P99_LIMIT_MS} ms`);
  }
  return { holds: why.length === 0, why };
}

function targetText(
  name: ScenarioName,
  hasFloor: boolean,
  report: Pick<BenchReport, 'minimalFloor' | 'ejabberd'>,
): string {
  const t = scenario(name).target;
  const parts: string[] = [];
  const m = MINIMAL_FLOOR_TARGETS[name];
  if (m) {
    parts.push(
      minimalFloorOf(report, name)
        ? `≥ ${m.ratio} × ${m.script} floor`
        : `(${m.ratio} × ${m.script} floor: not measured)`,
    );
  }
  if (hasFloor) parts.push(`≥ ${OWN_FLOOR_RATIO} × own floor`);
  const e = name === 'send' ? ejabberdBest(report) : null;
  if (e) parts.push(`≥ ejabberd (${int(e.rps)}/s)`);
  if (t.p99Ms !== undefined) parts.push(`p99 < ${t.p99Ms} ms`);
  return parts.length ? parts.join(', ') : '–';
}

/** One row of the results table, as results.json carries it. */
export interface RouteSummary {
  scenario: ScenarioName;
  shape: Runner;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  failed: number;
  apiPeakRssMb: number | null;
  ownFloorRps: number | null;
  ownFloorP99: number | null;
  /** rps / ownFloorRps (SPEC §5: ≥ 0.5). */
  ownFloorRatio: number | null;
  minimalFloorScript: FloorScript | null;
  minimalFloorTps: number | null;
  /** rps / minimalFloorTps (SPEC §5: ≥ 0.5; the thread list ≥ 0.3 of the page floor). */
  minimalFloorRatio: number | null;
  minimalFloorTarget: number | null;
  /** ejabberd's best archived send rate of this run (send only). */
  ejabberdRps: number | null;
  target: string;
  holds: boolean;
  why: string[];
}

export function routeSummaries(report: BenchReport): RouteSummary[] {
  const out: RouteSummary[] = [];
  const shapes = [...new Set(report.runs.map((r) => r.runner).filter((r) => r !== 'floor'))];
  for (const shape of shapes) {
    for (const s of SCENARIOS) {
      const run = find(report.runs, s.name, shape);
      if (!run) continue;
      const floor = find(report.runs, s.name, 'floor');
      const r = run.result;
      const minimal = minimalFloorOf(report, s.name);
      const v = verdict(run, floor, report);
      out.push({
        scenario: s.name,
        shape,
        rps: r.rps,
        p50: r.p50,
        p90: r.p90,
        p99: r.p99,
        failed: r.non2xx + r.errors,
        apiPeakRssMb: run.sample?.apiPeakRssMb ?? null,
        ownFloorRps: floor?.result.rps ?? null,
        ownFloorP99: floor?.result.p99 ?? null,
        ownFloorRatio: floor ? r.rps / floor.result.rps : null,
        minimalFloorScript: minimal?.script ?? null,
        minimalFloorTps: minimal?.tps ?? null,
        minimalFloorRatio: minimal ? r.rps / minimal.tps : null,
        minimalFloorTarget: minimal?.ratio ?? null,
        ejabberdRps: s.name === 'send' ? (ejabberdBest(report)?.rps ?? null) : null,
        target: targetText(s.name, !!floor, report),
        holds: v.holds,
        why: v.why,
      });
    }
  }
  return out;
}

export function resultsTable(report: BenchReport): string {
  const rows = routeSummaries(report).map((x) => [
    scenario(x.scenario).label,
    x.shape,
    int(x.rps),
    one(x.p50),
    one(x.p90),
    one(x.p99),
    x.failed === 0 ? '0' : String(x.failed),
    int(x.apiPeakRssMb),
    int(x.ownFloorRps),
    one(x.ownFloorP99),
    two(x.ownFloorRatio),
    x.minimalFloorScript ? `${int(x.minimalFloorTps)} (${x.minimalFloorScript})` : '–',
    two(x.minimalFloorRatio),
    x.target,
    x.holds ? '**yes**' : `**no**: ${x.why.join('; ')}`,
  ]);
  return table(
    [
      'scenario',
      'shape',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'failed',
      'API peak RSS MB',
      'own floor req/s',
      'own floor p99 ms',
      'route / own floor',
      'minimal floor tx/s',
      'route / minimal floor',
      'SPEC §5 target',
      'holds',
    ],
    rows,
  );
}

/** The minimal floor before and after the routes (the drift between them), or why it is absent. */
export function minimalFloorTable(report: BenchReport): string {
  const mf = report.minimalFloor;
  if (!mf || mf.skipped) return `_${mf?.skipped ?? 'the minimal floor is not in this run'}._`;
  const before = mf.runs.find((r) => r.when === 'before');
  const after = mf.runs.find((r) => r.when === 'after');
  const scripts = (['send', 'page', 'unread'] as const).filter(
    (s) => before?.figures[s] ?? after?.figures[s],
  );
  const rows = scripts.map((s) => {
    const b = before?.figures[s];
    const a = after?.figures[s];
    return [
      s,
      int(b?.tps),
      one(b?.p50),
      one(b?.p99),
      int(a?.tps),
      one(a?.p50),
      one(a?.p99),
      b && a
        ? `${a.tps >= b.tps ? '+' : ''}${(((a.tps - b.tps) / b.tps) * 100).toFixed(0)} %`
        : '–',
    ];
  });
  return [
    `\`${mf.path}\`, ${before?.seconds ?? after?.seconds} s a script, pgbench over the extended ` +
      'protocol on a plain schema (1k users, 5k threads, 500k messages) in a throw-away database ' +
      'of the same server, run right before the routes' +
      (after ? ' and again after them and ejabberd (the drift between the two)' : '') +
      '. The ratios above are to the run before the routes.',
    '',
    table(
      ['script', 'before tx/s', 'p50 ms', 'p99 ms', 'after tx/s', 'p50 ms', 'p99 ms', 'drift'],
      rows,
    ),
    ...(mf.notes ?? []).map((n) => `\n_${n}_`),
  ].join('\n');
}

/** ejabberd's send_message at each concurrency, beside the service's send and the floors. */
export function ejabberdTable(report: BenchReport): string {
  const e = report.ejabberd;
  if (!e || e.skipped) return `_${e?.skipped ?? 'ejabberd is not in this run'}._`;
  const own = find(report.runs, 'send', 'floor');
  const minimal = minimalFloorOf(report, 'send');
  const rows = e.runs.map((run) => {
    const r = run.result;
    const c = run.sample?.cpu;
    return [
      run.connections,
      int(r.rps),
      one(r.p50),
      one(r.p99),
      `${r.non2xx} / ${r.errors}`,
      `${run.archiveRows} (${run.rowsPerMessage} a message)`,
      `${(run.stored * 100).toFixed(1)} %${archiveHolds(run) ? '' : ' **not comparable**'}`,
      c ? two((c.api * 1000) / r.rps) : '–',
      c ? two((c.postgres * 1000) / r.rps) : '–',
      minimal ? two(r.rps / minimal.tps) : '–',
      own ? two(r.rps / own.result.rps) : '–',
    ];
  });
  const best = ejabberdBest(report);
  const shapes = [...new Set(report.runs.map((r) => r.runner).filter((r) => r !== 'floor'))];
  const sends = shapes
    .map((shape) => find(report.runs, 'send', shape))
    .filter((r): r is Run => !!r)
    .map(
      (r) =>
        `${r.runner} ${int(r.result.rps)} req/s (p99 ${one(r.result.p99)} ms)` +
        (best ? ` = ${two(r.result.rps / best.rps)} × ejabberd's best` : ''),
    );
  return [
    `ejabberd ${e.version ?? ''} (${e.started ? 'started by the bench from bench/ejabberd/ejabberd.yml' : 'already running'}), ` +
      `archive (mod_mam) and accounts in PostgreSQL; autocannon \`POST /api/send_message\` between ` +
      `random pairs of ${e.users} registered users, ${report.options.warmupSeconds} s warm-up and ` +
      `${report.options.seconds} s measured at each concurrency. "stored": archive rows written ` +
      'during the measured seconds over (rows a message × 2xx answers); CPU: the ejabberd ' +
      "process and its database's backends.",
    '',
    table(
      [
        'connections',
        'sends/s',
        'p50 ms',
        'p99 ms',
        'non-2xx / errors',
        'archive rows',
        'stored',
        'ejabberd CPU ms/send',
        'PostgreSQL CPU ms/send',
        '/ minimal send floor',
        '/ own send floor',
      ],
      rows,
    ),
    '',
    `The service's send at ${report.options.connections} connections in this run: ${sends.join('; ') || 'not measured'}.`,
  ].join('\n');
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
        (() => {
          const m = minimalFloorOf(report, s.name);
          return m ? two(r.rps / m.tps) : '–';
        })(),
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
      'own floor req/s',
      'route / own floor',
      'route / minimal floor',
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
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM; Node ${m.node}, PostgreSQL ${m.postgres}` +
      `${m.autovacuum ? ` (autovacuum ${m.autovacuum})` : ''}, ` +
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
    'Each route beside the two floors of this run: its own floor (the statements the route runs, ' +
      'from a raw node-postgres client, no framework) and the minimal floor (pgbench on a plain ' +
      'schema, ../shared/floor/: send → send, thread page → page, unread count → unread, thread ' +
      'list → page). SPEC §5 decides on the ratios: every hot route ≥ 0.5 × its minimal floor ' +
      '(the thread list ≥ 0.3 × the page floor) and ≥ 0.5 × its own floor, the send at least ' +
      "ejabberd's rate, p99 < 50 ms. SPEC §5's absolute rates (send 2,000, page and unread 4,000, " +
      'list 2,500 req/s) are the goal on a quiet machine and are not checked here.',
    '',
    resultsTable(report),
    '',
    '## Minimal floor',
    '',
    minimalFloorTable(report),
    '',
    '## ejabberd',
    '',
    ejabberdTable(report),
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

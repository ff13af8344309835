import { readdirSync, readFileSync } from 'node:fs';

/** CPU use in cores (1.0 = one core busy) per process group over a measured run. */
export interface CpuShare {
  api: number;
  worker: number;
  /** nginx in front of the API processes (the --api-processes runs), its master and workers. */
  balancer: number;
  bench: number;
  postgres: number;
  redis: number;
  /** Everything else that ran on the machine meanwhile (other users' processes included). */
  other: number;
  total: number;
}

export interface Sample {
  /** Peak resident set size in MB. */
  apiPeakRssMb: number | null;
  workerPeakRssMb: number | null;
  cpu: CpuShare;
}

const TICKS = 100; // USER_HZ on Linux

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function rssMb(pid: number): number | null {
  const status = readText(`/proc/${pid}/status`);
  const kb = status && /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : null;
}

/** utime + stime (and with `reaped`, those of its exited children), in ticks. */
function cpuTicks(pid: number, reaped = false): number {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return 0;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const own = Number(f[11]) + Number(f[12]);
  return reaped ? own + Number(f[13]) + Number(f[14]) : own;
}

function parentPid(pid: number): number {
  const stat = readText(`/proc/${pid}/stat`);
  return stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : 0;
}

/** Which PostgreSQL backends and Redis server are the bench's. */
export interface Scope {
  database: string;
  redisPort: number;
}

interface Snapshot {
  at: number;
  api: number;
  worker: number;
  balancer: number;
  bench: number;
  postgres: number;
  redis: number;
  busy: number;
}

/**
 * PostgreSQL: the backends serving the bench database plus the server's own processes
 * (checkpointer, WAL writer…) and the processes that exited meanwhile (autovacuum workers, mostly:
 * counted from the postmaster's reaped-children times, whichever database they served); live
 * backends of other databases count as "other". Redis: the server on the bench's port.
 */
function snapshot(
  api: number[],
  worker: number[],
  balancer: number | null,
  scope: Scope,
): Snapshot {
  let postgres = 0;
  let redis = 0;
  let nginx = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = readText(`/proc/${entry}/comm`)?.trim();
    if (comm === 'nginx' && balancer) {
      const pid = Number(entry);
      if (pid === balancer || parentPid(pid) === balancer) nginx += cpuTicks(pid);
    } else if (comm === 'postgres') {
      const title = (readText(`/proc/${entry}/cmdline`) ?? '').replace(/\0/g, ' ');
      const client = /\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]/.test(title);
      const postmaster =
        readText(`/proc/${parentPid(Number(entry))}/comm`)?.trim() !== 'postgres' && !client;
      if (!client || title.includes(` ${scope.database} `)) {
        postgres += cpuTicks(Number(entry), postmaster);
      }
    } else if (comm === 'redis-server') {
      const title = (readText(`/proc/${entry}/cmdline`) ?? '').replace(/\0/g, ' ');
      if (title.includes(`:${scope.redisPort}`)) redis += cpuTicks(Number(entry));
    }
  }
  const line = (readText('/proc/stat') ?? '').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = line[3] + line[4];
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    api: api.reduce((sum, pid) => sum + cpuTicks(pid), 0),
    worker: worker.reduce((sum, pid) => sum + cpuTicks(pid), 0),
    balancer: nginx,
    bench: ((usage.user + usage.system) / 1e6) * TICKS,
    postgres,
    redis,
    busy: total - idle,
  };
}

/**
 * Samples the API's (and worker's) RSS every 200 ms and the CPU time of each process group
 * between start and stop (pidstat-style, from /proc). Several API processes: their CPU summed,
 * the peak RSS of the largest.
 */
export function startSampling(
  scope: Scope,
  pids: { api?: number | number[]; worker?: number | number[]; balancer?: number } = {},
): { stop(): Sample } {
  const api = [pids.api ?? []].flat();
  const worker = [pids.worker ?? []].flat();
  const balancer = pids.balancer ?? null;
  let apiPeak: number | null = null;
  let workerPeak: number | null = null;
  const sampleRss = () => {
    for (const pid of api) apiPeak = Math.max(apiPeak ?? 0, rssMb(pid) ?? 0);
    for (const pid of worker) workerPeak = Math.max(workerPeak ?? 0, rssMb(pid) ?? 0);
  };
  sampleRss();
  const timer = setInterval(sampleRss, 200);
  const start = snapshot(api, worker, balancer, scope);
  return {
    stop(): Sample {
      clearInterval(timer);
      sampleRss();
      const end = snapshot(api, worker, balancer, scope);
      const seconds = (end.at - start.at) / 1000;
      const cores = (k: keyof Snapshot) => (end[k] - start[k]) / TICKS / seconds;
      const cpu = {
        api: cores('api'),
        worker: cores('worker'),
        balancer: cores('balancer'),
        bench: cores('bench'),
        postgres: cores('postgres'),
        redis: cores('redis'),
        other: 0,
        total: cores('busy'),
      };
      cpu.other = Math.max(
        0,
        cpu.total - cpu.api - cpu.worker - cpu.balancer - cpu.bench - cpu.postgres - cpu.redis,
      );
      return { apiPeakRssMb: apiPeak, workerPeakRssMb: workerPeak, cpu };
    },
  };
}

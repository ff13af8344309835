import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import Redis from 'ioredis';
import { withOwner } from './db';

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  postgres: string;
  /** The server's autovacuum setting: 'off' leaves the statistics where the seed's analyze put them. */
  autovacuum?: string;
  redis: string;
  /** 1-minute load average when the bench started (other work on the machine skews figures). */
  loadAverage: number;
  /** CPU (in cores) used by other processes in the 2 s before the bench started. */
  backgroundCores?: number;
}

export async function describeMachine(ownerUrl: string, redisUrl: string): Promise<Machine> {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux: keep what os.cpus() says
  }
  const { postgres, autovacuum } = await withOwner(ownerUrl, async (c) => {
    const { rows } = await c.query<{ v: string; autovacuum: string }>(
      `select current_setting('server_version') as v, current_setting('autovacuum') as autovacuum`,
    );
    return { postgres: rows[0].v, autovacuum: rows[0].autovacuum };
  });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  let redisVersion = 'unknown';
  try {
    await redis.connect();
    const info = await redis.info('server');
    redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? redisVersion;
  } finally {
    redis.disconnect();
  }
  const load = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  return {
    cpu,
    cores: cpus().length,
    ramGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    autovacuum,
    redis: redisVersion,
    loadAverage: load,
  };
}

/** Deletes the Redis keys of a run's queue prefix (queues, job data, rate-limit counters). */
export async function clearRedisPrefix(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}

import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { Metrics } from '../metrics/metrics';
import { createRedis, type RedisClient } from '../queues/redis-connection';
import { WindowCounter, type Waiter } from './window-counter';

/**
 * One counter's sync, as a Lua function: adds the hits admitted locally, then admits up to
 * `waiting` waiting requests while the count is under `limit`. Answers the count and how many of
 * the waiting it admitted. The key is the window's own (its number in the name) and expires
 * `ttl` ms after it was created.
 */
const COUNT = `
local function count_window(key, hits, waiting, limit, ttl)
  local count = redis.call('INCRBY', key, hits)
  if count == hits then redis.call('PEXPIRE', key, ttl) end
  local granted = 0
  local room = limit - count
  if room > 0 and waiting > 0 then
    granted = math.min(room, waiting)
    count = redis.call('INCRBY', key, granted)
  end
  return count, granted
end`;

/** One counter (KEYS[1]; ARGV: hits, waiting, limit, ttl): answers {count, granted}. */
const SYNC = `${COUNT}
local count, granted = count_window(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
  tonumber(ARGV[3]), ARGV[4])
return {count, granted}`;

/**
 * The process's heartbeat in the set of API processes that admit requests (KEYS[1], scored by
 * Redis's own clock): adds this process (ARGV[1]), drops the ones silent for ARGV[2] ms and leaves
 * how many are left in `processes`. HEARTBEAT runs it alone, SYNC_MANY before its counters.
 */
const BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local processes = redis.call('ZCARD', KEYS[1])`;

/** The heartbeat alone: answers how many API processes are counted. */
const HEARTBEAT = `${BEAT}
return processes`;

/**
 * SYNC for many counters at once (one Redis), after the heartbeat: KEYS[1], ARGV[1] and ARGV[2]
 * are the heartbeat's; KEYS[2..] are the counters and ARGV[3..] the four arguments of each in
 * turn. Answers the processes counted, then the count and the admitted waiting requests of each
 * counter.
 */
const SYNC_MANY = `${BEAT}
${COUNT}
local out = {processes}
for i = 2, #KEYS do
  local a = 4 * (i - 2) + 2
  local count, granted = count_window(KEYS[i], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]),
    tonumber(ARGV[a + 3]), ARGV[a + 4])
  out[2 * i - 2] = count
  out[2 * i - 1] = granted
end
return out`;

/** Counters per SYNC_MANY call (a sync with more sends several calls in one pipeline). */
const SYNC_CHUNK = 256;

interface LimitCommands {
  rmLimitSync(key: string, hits: number, waiting: number, limit: number, ttlMs: number): unknown;
  rmLimitSyncMany(keys: number, ...keysThenArgs: Array<string | number>): unknown;
  rmLimitHeartbeat(key: string, member: string, expiryMs: number): unknown;
}

/** A counter's part in one sync. */
interface Sent {
  counter: WindowCounter;
  window: number;
  hits: number;
  asked: Waiter[];
}

/**
 * Heartbeats this often; a process silent for HEARTBEAT_EXPIRY_MS no longer counts. Counting a
 * process too long only makes the shares smaller (more requests wait for a sync); counting one
 * too few would loosen the bound, so a busy process's late heartbeat must not drop it.
 */
const HEARTBEAT_MS = 1000;
const HEARTBEAT_EXPIRY_MS = 10_000;
/** How long a starting process waits for its first heartbeat's answer (the process count). */
const JOIN_WAIT_MS = 2000;
/** After a failed sync, Redis is asked again (a sync of what came meanwhile) this long after. */
const RETRY_MS = 1000;

/**
 * Per-user fixed-window limits decided in this process, kept shared across the API processes by
 * a background sync with Redis (window-counter.ts has the rule and its bound). A request is
 * admitted or refused from local state; it waits only when its member has used this process's
 * share of the window and the limit is not reached in its view (never with one process), and then
 * for the next batched sync. Every counter touched since the last sync goes to Redis in one
 * pipeline every RATE_LIMIT_SYNC_MS (20 ms); the answers carry the shared counts back.
 *
 * Fails open like the synchronous limiter: a sync that fails or outlasts
 * RATE_LIMIT_REDIS_TIMEOUT_MS admits whatever waited for it, forgets the local counts and lets
 * every request through until a sync succeeds again (tried once a second while requests come).
 * A failure is noticed at the first sync after it: until then requests are decided from what
 * the process knows (one process alone still counts exactly). Windows are aligned on the
 * clock (`floor(now / windowMs)`), so every process counts the same window under the same key:
 * `rm:rl:<name>:<window>` (`rm:rl:{<name>}:<window>` on a cluster).
 */
@Injectable()
export class LocalLimits implements OnModuleDestroy {
  private readonly logger = new Logger(LocalLimits.name);
  private readonly id = randomUUID();
  private readonly prefix: string;
  private readonly cluster: boolean;
  private readonly syncMs: number;
  private readonly processesKey: string;
  private redis?: RedisClient;
  private readonly counters = new Map<string, WindowCounter>();
  private readonly dirty = new Set<WindowCounter>();
  /** Hits admitted in a window that ended before they were sent: sent with the next sync. */
  private leftovers: Array<{ key: string; hits: number; ttlMs: number }> = [];
  private processes = 1;
  /** False from a failed sync until one succeeds: every request is admitted (fail open). */
  private healthy = true;
  private retryAt = 0;
  private timer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private syncing = false;
  private closed = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.prefix = `${config.redis.queuePrefix}:rl:`;
    this.cluster = config.redis.clusterNodes !== null;
    this.syncMs = config.rateLimits.syncMs;
    this.processesKey = `${this.prefix}processes`;
  }

  /**
   * Connects and joins the API processes (the count divides the local shares). Waits at most
   * JOIN_WAIT_MS for the first answer; with Redis away the process starts counting itself alone,
   * and limits fail open until Redis answers.
   */
  async join(): Promise<void> {
    if (this.redis) return;
    this.redis = createRedis(this.config.redis, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.config.rateLimits.redisTimeoutMs,
      lazyConnect: false,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    });
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('rmLimitSync', { numberOfKeys: 1, lua: SYNC });
    this.redis.defineCommand('rmLimitSyncMany', { lua: SYNC_MANY });
    this.redis.defineCommand('rmLimitHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
    const redis = this.redis;
    this.gauges();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, JOIN_WAIT_MS);
      function done() {
        clearTimeout(timer);
        redis.off('ready', done);
        resolve();
      }
      if (redis.status === 'ready') done();
      else redis.once('ready', done);
    });
    // A first heartbeat that failed (Redis not ready yet) is sent again as soon as it is.
    if (!(await this.beat())) redis.once('ready', () => void this.beat());
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** What an operator watches of the limits (docs/operations.md), read at scrape time. */
  private gauges(): void {
    const processes = () => this.processes;
    const up = () => (this.healthy ? 1 : 0);
    this.metrics.gauge({
      name: 'rate_limit_processes',
      help: 'API processes this one counts when it shares the member limits out (from their heartbeats in Redis, itself included).',
      collect() {
        this.set(processes());
      },
    });
    this.metrics.gauge({
      name: 'rate_limit_redis_up',
      help: '1 while the member limits sync with Redis; 0 while the syncs fail and every request is admitted (fail open).',
      collect() {
        this.set(up());
      },
    });
  }

  /** The API processes counted in Redis, this one included (1 until Redis has answered). */
  get processCount(): number {
    return this.processes;
  }

  /**
   * Counts one request against `name`'s limit of `limit` per `windowMs`: 0 when admitted, else
   * the milliseconds until the window ends (refused); a promise of either when the request
   * waits for the next sync.
   */
  admit(name: string, limit: number, windowMs: number): number | Promise<number> {
    if (!this.redis) return 0;
    const now = Date.now();
    let counter = this.counters.get(name);
    if (!counter) {
      counter = new WindowCounter(name, limit, windowMs);
      this.counters.set(name, counter);
    }
    const window = Math.floor(now / windowMs);
    if (counter.window !== window) this.roll(counter, window);
    if (!this.healthy) {
      // Fail open; the count still goes to Redis, as the probe that tells when it is back.
      counter.pending++;
      this.touch(counter, false);
      return 0;
    }
    const decision = counter.decide();
    if (decision === 'admit') {
      this.touch(counter, false);
      return 0;
    }
    if (decision === 'refuse') return (window + 1) * windowMs - now;
    return new Promise<number>((resolve) => {
      counter.waiting.push(resolve);
      this.touch(counter, true);
    });
  }

  private roll(counter: WindowCounter, window: number): void {
    if (counter.pending > 0 && counter.window >= 0) {
      this.leftovers.push({
        key: this.key(counter.name, counter.window),
        hits: counter.pending,
        ttlMs: 2 * counter.windowMs,
      });
      this.touch(undefined, false);
    }
    counter.roll(window, this.processes);
  }

  private touch(counter: WindowCounter | undefined, urgent: boolean): void {
    if (counter) this.dirty.add(counter);
    if (this.syncing || this.closed) return;
    if (urgent && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.timer) {
      const delay = !this.healthy
        ? Math.max(this.syncMs, this.retryAt - Date.now())
        : urgent
          ? 0
          : this.syncMs;
      this.timer = setTimeout(() => void this.sync(), delay);
      this.timer.unref();
    }
  }

  private key(name: string, window: number): string {
    return this.cluster ? `${this.prefix}{${name}}:${window}` : `${this.prefix}${name}:${window}`;
  }

  /** One round trip for every counter touched since the last one. */
  private async sync(): Promise<void> {
    this.timer = undefined;
    const redis = this.redis;
    if (!redis || this.syncing) return;
    const sent: Sent[] = [];
    for (const counter of this.dirty)
      sent.push({ counter, window: counter.window, ...counter.take() });
    this.dirty.clear();
    const leftovers = this.leftovers;
    this.leftovers = [];
    if (!sent.length && !leftovers.length) return;
    this.syncing = true;
    let answers: Array<[number, number]> | undefined;
    try {
      let processes: number;
      ({ answers, processes } = await this.send(redis, [
        ...sent.map(
          (s) =>
            [
              this.key(s.counter.name, s.window),
              s.hits,
              s.asked.length,
              s.counter.limit,
              2 * s.counter.windowMs,
            ] as const,
        ),
        ...leftovers.map((l) => [l.key, l.hits, 0, 0, l.ttlMs] as const),
      ]));
      if (processes >= 1) this.processes = processes;
      this.resume();
    } catch (error) {
      this.trip(error as Error);
    }
    this.syncing = false;
    const now = Date.now();
    for (let i = 0; i < sent.length; i++) {
      const { counter, window, hits, asked } = sent[i];
      if (counter.asked === asked) counter.asked = [];
      const answer = answers?.[i];
      if (!answer) {
        for (const waiter of asked) waiter(0);
        continue;
      }
      const [count, granted] = answer;
      if (counter.window === window) counter.answered(hits, count, this.processes);
      const refusal = Math.max(1, (window + 1) * counter.windowMs - now);
      asked.forEach((waiter, n) => waiter(n < granted ? 0 : refusal));
    }
    if (this.dirty.size || this.leftovers.length) {
      const urgent = [...this.dirty].some((c) => c.waiting.length > 0);
      this.touch(undefined, urgent);
    }
  }

  /**
   * The scripts of one sync, with the heartbeat, so that every sync also says how many API
   * processes there are (a process learns of one that joined by its next sync, not a second
   * later). One Redis: one script call per SYNC_CHUNK counters, in one pipeline (one write). A
   * cluster: one call per counter and one for the heartbeat (a script's keys must share a slot,
   * and so must a cluster pipeline's), all written without waiting for the answers.
   */
  private async send(
    redis: RedisClient,
    calls: ReadonlyArray<readonly [string, number, number, number, number]>,
  ): Promise<{ answers: Array<[number, number]>; processes: number }> {
    if (this.cluster) {
      const cluster = redis as Cluster & LimitCommands;
      const [processes, ...answers] = await Promise.all([
        // Its own slot: a master down there must not fail the counters' sync (the last count stays).
        Promise.resolve(
          cluster.rmLimitHeartbeat(this.processesKey, this.id, HEARTBEAT_EXPIRY_MS),
        ).catch(() => 0),
        ...calls.map((c) => cluster.rmLimitSync(...c)),
      ]);
      return { answers: answers as Array<[number, number]>, processes: Number(processes) };
    }
    const pipeline = redis.pipeline() as unknown as LimitCommands & {
      exec(): Promise<Array<[Error | null, unknown]> | null>;
    };
    for (let start = 0; start < calls.length; start += SYNC_CHUNK) {
      const chunk = calls.slice(start, start + SYNC_CHUNK);
      const args: Array<string | number> = [this.processesKey, ...chunk.map((c) => c[0])];
      args.push(this.id, HEARTBEAT_EXPIRY_MS);
      for (const [, hits, waiting, limit, ttlMs] of chunk) args.push(hits, waiting, limit, ttlMs);
      pipeline.rmLimitSyncMany(chunk.length + 1, ...args);
    }
    const results = await pipeline.exec();
    if (!results) throw new Error('pipeline not executed');
    const answers: Array<[number, number]> = [];
    let processes = 0;
    for (const [error, value] of results) {
      if (error) throw error;
      const flat = value as number[];
      processes = flat[0];
      for (let i = 1; i < flat.length; i += 2) answers.push([flat[i], flat[i + 1]]);
    }
    return { answers, processes };
  }

  /**
   * Redis failed: admit everything until a sync succeeds again (tried at most every RETRY_MS),
   * with the counts of what it admitted meanwhile (the probe).
   */
  private trip(error: Error): void {
    this.retryAt = Date.now() + RETRY_MS;
    if (this.healthy) {
      this.logger.warn(`rate limiting skipped (Redis unavailable): ${error.message}`);
    }
    this.healthy = false;
    for (const counter of this.counters.values()) {
      for (const waiter of counter.waiting) waiter(0);
    }
    this.counters.clear();
    this.dirty.clear();
    this.leftovers = [];
  }

  /** Redis answered: limits are decided again (after a failure, from what is counted since). */
  private resume(): void {
    if (!this.healthy) this.logger.log('rate limiting resumed (Redis answers again)');
    this.healthy = true;
  }

  /** Adds this process to the set of API processes (every second, and with every sync). */
  private async beat(): Promise<boolean> {
    const redis = this.redis as (RedisClient & LimitCommands) | undefined;
    if (!redis || this.closed) return false;
    let answered = false;
    try {
      const count = Number(
        await redis.rmLimitHeartbeat(this.processesKey, this.id, HEARTBEAT_EXPIRY_MS),
      );
      if (count >= 1) this.processes = count;
      answered = true;
      // Failing open and idle since: nothing to count, so nothing waits for a sync to say Redis
      // is back (with requests, their sync does).
      if (!this.syncing && !this.dirty.size && !this.leftovers.length) this.resume();
    } catch {
      // Keep the last count; the syncs trip the breaker when Redis is away.
    }
    this.sweep();
    return answered;
  }

  /** Forgets the counters of windows that ended and have nothing left to send. */
  private sweep(): void {
    const now = Date.now();
    for (const [name, counter] of this.counters) {
      if (counter.idle && Math.floor(now / counter.windowMs) !== counter.window) {
        this.counters.delete(name);
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    for (const counter of this.counters.values()) {
      for (const waiter of [...counter.waiting, ...counter.asked]) waiter(0);
    }
    const redis = this.redis;
    if (!redis) return;
    await redis.zrem(this.processesKey, this.id).catch(() => undefined);
    redis.disconnect();
  }
}

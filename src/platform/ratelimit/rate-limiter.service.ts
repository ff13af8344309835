import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { createRedis, type RedisClient } from '../queues/redis-connection';

const SCRIPT = `
local hits = redis.call('INCRBY', KEYS[1], ARGV[2])
if hits == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return {hits, ttl}`;

export interface Consumption {
  hits: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** How long a starting process waits for the limiter's Redis connection. */
const READY_WAIT_MS = 2000;

/**
 * Fixed-window counters in Redis, shared by every API instance. Fails open: when Redis is down,
 * slow or paused, requests are allowed (a breaker skips Redis for a second after a failure so a
 * stalled Redis does not add latency to every request). On a Redis Cluster each counter is its
 * own hash tag (`rm:rl:{<key>}`: a user's counter lives in one slot, and the counters spread
 * over the masters); with a master down, the limits of its slots fail open.
 */
@Injectable()
export class RateLimiter implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RateLimiter.name);
  private readonly redis: RedisClient;
  private readonly key: (key: string) => string;
  private openUntil = 0;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const prefix = `${config.redis.queuePrefix}:rl:`;
    this.key = config.redis.clusterNodes
      ? (key) => `${prefix}{${key}}`
      : (key) => `${prefix}${key}`;
    this.redis = createRedis(config.redis, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: config.rateLimits.redisTimeoutMs,
      lazyConnect: false,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    });
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('rmConsume', { numberOfKeys: 1, lua: SCRIPT });
  }

  /**
   * Waits (at most READY_WAIT_MS) for the connection before the first request: a limit asked
   * while it was still being made would fail open, and for a second. With Redis down the process
   * starts anyway (limits fail open until it answers).
   */
  async onModuleInit(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, READY_WAIT_MS);
      const redis = this.redis;
      function done() {
        clearTimeout(timer);
        redis.off('ready', done);
        resolve();
      }
      redis.once('ready', done);
    });
  }

  /** Adds `cost` hits to the window; null when Redis could not be asked (fail open). */
  async consume(key: string, windowMs: number, cost = 1): Promise<Consumption | null> {
    if (Date.now() < this.openUntil) return null;
    try {
      const [hits, ttl] = await (
        this.redis as unknown as {
          rmConsume(k: string, w: number, c: number): Promise<[number, number]>;
        }
      ).rmConsume(this.key(key), windowMs, cost);
      return { hits, resetMs: ttl > 0 ? ttl : windowMs };
    } catch (error) {
      this.openUntil = Date.now() + 1000;
      this.logger.warn(`rate limiting skipped (Redis unavailable): ${(error as Error).message}`);
      return null;
    }
  }

  /** Current hits without adding any. */
  async peek(key: string): Promise<number | null> {
    if (Date.now() < this.openUntil) return null;
    try {
      const value = await this.redis.get(this.key(key));
      return value ? Number(value) : 0;
    } catch {
      this.openUntil = Date.now() + 1000;
      return null;
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
    await Promise.resolve();
  }
}

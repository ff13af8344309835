import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { createRedis, type RedisClient } from './redis-connection';

/** Commits within this window share one cross-process wake (the first goes out at once). */
const WAKE_WINDOW_MS = 20;

/**
 * Wakes the outbox's consumers (the relay, the event pump) as soon as there is work, instead of at
 * their next poll (OUTBOX_POLL_MS):
 * - `committed()`: a transaction that may have written outbox events has committed. Consumers in
 *   this process wake at once; workers in other processes through one Redis PUBLISH, at most one
 *   per 20 ms per process (the first at once, the rest together at the end of the window).
 * - `local()`: wake this process's consumers only (a worker that just made more work itself).
 * - `deliveries()`: wake this process's webhook delivery dispatch (see below); commits do not.
 * Best effort: a wake that is lost (Redis away) costs one poll interval, never an event.
 * On a Redis Cluster the channel is plain pub/sub too (PUBLISH reaches every node over the
 * cluster bus; the subscriber listens on any one node and moves when that node goes): a few
 * wakes a second per process, and they keep flowing while a master is down.
 */
@Injectable()
export class OutboxSignals implements OnModuleDestroy {
  private readonly logger = new Logger(OutboxSignals.name);
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private publisher: RedisClient | null = null;
  private subscriber: RedisClient | null = null;
  private windowUntil = 0;
  private trailing: NodeJS.Timeout | null = null;
  private lastErrorLog = 0;
  private closed = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private get channel(): string {
    return `${this.config.redis.queuePrefix}:outbox:wake`;
  }

  committed(): void {
    this.local();
    const now = Date.now();
    if (now >= this.windowUntil) {
      this.windowUntil = now + WAKE_WINDOW_MS;
      this.publish();
    } else {
      this.trailing ??= setTimeout(() => {
        this.trailing = null;
        this.publish();
      }, this.windowUntil - now).unref();
    }
  }

  local(): void {
    this.emitter.emit('wake');
  }

  /**
   * Webhook deliveries became due or freed an endpoint's slot (a fan-out created some, an attempt
   * was recorded): wake this process's delivery dispatch. A commit does not wake it (a send
   * creates no delivery; issue 17: one idle claim per commit cost more PostgreSQL time than the
   * relay's own claim); it polls every OUTBOX_POLL_MS for the rest (retries, manual redeliveries).
   */
  deliveries(): void {
    this.emitter.emit('deliveries');
  }

  /** Calls `listener` on every deliveries wake of this process. */
  onDeliveries(listener: () => void): () => void {
    this.emitter.on('deliveries', listener);
    return () => this.emitter.off('deliveries', listener);
  }

  /** Calls `listener` on every wake, from this process or (through Redis) another. */
  onWake(listener: () => void): () => void {
    this.emitter.on('wake', listener);
    this.subscribe();
    return () => this.emitter.off('wake', listener);
  }

  onModuleDestroy(): void {
    this.closed = true;
    if (this.trailing) clearTimeout(this.trailing);
    this.publisher?.disconnect();
    this.subscriber?.disconnect();
  }

  private publish(): void {
    if (this.closed) return;
    this.publisher ??= this.connect({ enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    this.publisher.publish(this.channel, '1').catch(() => undefined);
  }

  private subscribe(): void {
    if (this.subscriber || this.closed) return;
    this.subscriber = this.connect({ maxRetriesPerRequest: null, enableReadyCheck: false });
    this.subscriber.on('message', (channel: string) => {
      if (channel === this.channel) this.local();
    });
    this.subscriber.subscribe(this.channel).catch(() => undefined);
  }

  private connect(options: {
    enableOfflineQueue?: boolean;
    enableReadyCheck?: boolean;
    maxRetriesPerRequest: number | null;
  }) {
    const redis = createRedis(this.config.redis, {
      ...options,
      commandTimeout: 1000,
      retryStrategy: (times: number) => Math.min(times * 250, 2000),
    });
    redis.on('error', (error: Error) => {
      if (Date.now() - this.lastErrorLog < 10_000) return;
      this.lastErrorLog = Date.now();
      this.logger.warn(`outbox wake-ups (consumers poll meanwhile): ${error.message}`);
    });
    return redis;
  }
}

import { randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import type { Published, StreamEvent } from './stream-events';

/** What travels on a member's channel. */
export type FanoutMessage =
  | { kind: 'events'; epoch: string; events: StreamEvent[] }
  /** Streams to close, as `<process>/<stream>` (a member opened more than their limit). */
  | { kind: 'close'; streams: string[] };

export type FanoutHandler = (message: FanoutMessage) => void;

/**
 * Keeps at most `limit` streams per member across processes: the member's streams as
 * `<process>/<stream>` scored by when they opened; entries of processes that stopped answering
 * (their heartbeat key expired) are dropped first. Returns the entries to close, oldest first.
 */
const REGISTER = `
local entries = redis.call('ZRANGE', KEYS[1], 0, -1)
local alive = {}
for _, entry in ipairs(entries) do
  local process = string.match(entry, '^([^/]+)/')
  if alive[process] == nil then alive[process] = redis.call('EXISTS', ARGV[5] .. process) == 1 end
  if not alive[process] then redis.call('ZREM', KEYS[1], entry) end
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local count = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[3])
if count > limit then return redis.call('ZRANGE', KEYS[1], 0, count - limit - 1) end
return {}`;

/**
 * The event streams' fan-out through Redis (sharded pub/sub, SPUBLISH/SSUBSCRIBE, Redis 7): a
 * channel per member, so the process that committed an event need not hold the member's streams.
 * Workers publish what they appended once their transaction has committed; API processes
 * subscribe to the channels of the members whose streams they hold. Redis only carries the news:
 * the events are in PostgreSQL, which streams read back whenever a publish may have been missed
 * (a gap in the sequence numbers, Redis away and back).
 */
@Injectable()
export class Fanout implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(Fanout.name);
  /** This process, in the per-member registry of open streams. */
  readonly processId = randomBytes(6).toString('hex');
  private commands: Redis | null = null;
  private subscriber: Redis | null = null;
  private readonly handlers = new Map<string, Set<FanoutHandler>>();
  private readonly stateListeners = new Set<(up: boolean) => void>();
  private subscriberUp = false;
  private lastErrorLog = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  channel(orgId: string, userId: string): string {
    // The org as a hash tag: on a Redis Cluster an org's channels share one shard.
    return `${this.config.redis.queuePrefix}:ev:{${orgId}}:${userId}`;
  }

  /** Publishes what workers appended; false when Redis could not take it (streams catch up). */
  async publish(items: Published[]): Promise<boolean> {
    if (!items.length) return true;
    try {
      const pipeline = this.redis().pipeline();
      for (const p of items) {
        const message: FanoutMessage = { kind: 'events', epoch: p.epoch, events: p.events };
        pipeline.spublish(this.channel(p.orgId, p.userId), JSON.stringify(message));
      }
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed) throw failed[0] as Error;
      return true;
    } catch (error) {
      this.warn(
        `publishing stream events failed (streams catch up from PostgreSQL): ${String(error)}`,
      );
      return false;
    }
  }

  /** Asks whichever process holds them to close these streams of a member. */
  async close(orgId: string, userId: string, streams: string[]): Promise<void> {
    const message: FanoutMessage = { kind: 'close', streams };
    await this.redis()
      .spublish(this.channel(orgId, userId), JSON.stringify(message))
      .catch(() => undefined);
  }

  /** Registers a new stream of a member; returns the streams beyond the member's limit. */
  async register(
    orgId: string,
    userId: string,
    streamId: string,
    limit: number,
  ): Promise<string[] | null> {
    try {
      return (await this.redis().eval(
        REGISTER,
        1,
        this.registryKey(orgId, userId),
        String(Date.now()),
        `${this.processId}/${streamId}`,
        String(limit),
        String(24 * 3600_000),
        `${this.config.redis.queuePrefix}:evproc:`,
      )) as string[];
    } catch {
      return null;
    }
  }

  async unregister(orgId: string, userId: string, streamId: string): Promise<void> {
    await this.redis()
      .zrem(this.registryKey(orgId, userId), `${this.processId}/${streamId}`)
      .catch(() => undefined);
  }

  /** This process holds streams (and answers for them in the registry) for another 30 s. */
  async heartbeat(): Promise<void> {
    await this.redis()
      .set(`${this.config.redis.queuePrefix}:evproc:${this.processId}`, '1', 'PX', 30_000)
      .catch(() => undefined);
  }

  /** Subscribes `handler` to a member's channel; returns the unsubscribe. */
  subscribe(orgId: string, userId: string, handler: FanoutHandler): () => void {
    const channel = this.channel(orgId, userId);
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      this.sub()
        .ssubscribe(channel)
        .catch(() => undefined);
    }
    set.add(handler);
    return () => {
      const current = this.handlers.get(channel);
      if (!current?.delete(handler) || current.size) return;
      this.handlers.delete(channel);
      this.sub()
        .sunsubscribe(channel)
        .catch(() => undefined);
    };
  }

  /** Whether the subscriber connection is up (live events arrive through it). */
  isUp(): boolean {
    return this.subscriberUp;
  }

  /** Called with true when the subscriber (re)connects and false when it is lost. */
  onState(listener: (up: boolean) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Connects at start: commands fail fast rather than queue while Redis is away. */
  onModuleInit(): void {
    this.redis();
  }

  onModuleDestroy(): void {
    this.commands?.disconnect();
    this.subscriber?.disconnect();
  }

  private registryKey(orgId: string, userId: string): string {
    return `${this.config.redis.queuePrefix}:evstreams:{${orgId}}:${userId}`;
  }

  private redis(): Redis {
    if (!this.commands) {
      this.commands = new Redis(this.config.redis.url, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 1000,
        retryStrategy: (times) => Math.min(times * 250, 2000),
      });
      this.commands.on('error', (error: Error) => this.warn(`fan-out: ${error.message}`));
    }
    return this.commands;
  }

  private sub(): Redis {
    if (!this.subscriber) {
      const subscriber = new Redis(this.config.redis.url, {
        maxRetriesPerRequest: null,
        // The ready check sends INFO, which a connection already subscribing refuses (the first
        // streams subscribe while it connects): the subscriber would never report ready.
        enableReadyCheck: false,
        retryStrategy: (times) => Math.min(times * 250, 2000),
      });
      subscriber.on('error', (error: Error) => this.warn(`fan-out subscriber: ${error.message}`));
      subscriber.on('ready', () => this.setState(true));
      subscriber.on('close', () => this.setState(false));
      subscriber.on('smessage', (channel: string, text: string) => {
        const handlers = this.handlers.get(channel);
        if (!handlers) return;
        let message: FanoutMessage;
        try {
          message = JSON.parse(text) as FanoutMessage;
        } catch {
          return;
        }
        for (const handler of handlers) handler(message);
      });
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }

  private setState(up: boolean): void {
    if (up === this.subscriberUp) return;
    this.subscriberUp = up;
    for (const listener of this.stateListeners) listener(up);
  }

  private warn(message: string): void {
    if (Date.now() - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = Date.now();
    this.logger.warn(message);
  }
}

import { randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { Cluster } from 'ioredis';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { createRedis, type RedisClient } from '../platform/queues/redis-connection';
import type { Published, StreamEvent } from './stream-events';

/** What travels on a member's channel. */
export type FanoutMessage =
  | { kind: 'events'; epoch: string; events: StreamEvent[] }
  /** Streams to close, as `<process>/<stream>` (a member opened more than their limit). */
  | { kind: 'close'; streams: string[] };

export type FanoutHandler = (message: FanoutMessage) => void;

/**
 * Keeps at most `limit` streams per member across processes: the member's streams as
 * `<process>/<stream>` scored by when they opened; entries of the processes in ARGV[5..] (their
 * heartbeat expired: they stopped answering) are dropped first. Returns the entries to close,
 * oldest first. It touches KEYS[1] only (a Redis Cluster refuses a script that reaches keys it
 * was not given, or keys of another slot): `register` looks up the heartbeats beforehand.
 */
const REGISTER = `
local dead = {}
for i = 5, #ARGV do dead[ARGV[i]] = true end
if #ARGV >= 5 then
  for _, entry in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if dead[string.match(entry, '^([^/]+)/')] then redis.call('ZREM', KEYS[1], entry) end
  end
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
  private commands: RedisClient | null = null;
  private subscriber: RedisClient | null = null;
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
    const messages = items.map((p) => {
      const message: FanoutMessage = { kind: 'events', epoch: p.epoch, events: p.events };
      return { channel: this.channel(p.orgId, p.userId), text: JSON.stringify(message) };
    });
    try {
      const redis = this.redis();
      if (redis instanceof Cluster) {
        // A cluster pipeline must stay within one slot: one command per channel (ioredis sends
        // them to their shards without waiting for each answer).
        await Promise.all(messages.map((m) => redis.spublish(m.channel, m.text)));
        return true;
      }
      const pipeline = redis.pipeline();
      for (const m of messages) pipeline.spublish(m.channel, m.text);
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

  /**
   * Registers a new stream of a member; returns the streams beyond the member's limit. The
   * processes the member's registry names are checked first (their heartbeat keys, one per
   * process, live in slots of their own): those that stopped answering lose their entries.
   */
  async register(
    orgId: string,
    userId: string,
    streamId: string,
    limit: number,
  ): Promise<string[] | null> {
    const key = this.registryKey(orgId, userId);
    try {
      const entries = await this.redis().zrange(key, 0, -1);
      const processes = [...new Set(entries.map((entry) => entry.split('/')[0]))].filter(
        (process) => process !== this.processId,
      );
      const alive = await Promise.all(
        processes.map((process) => this.redis().exists(this.heartbeatKey(process))),
      );
      const dead = processes.filter((_, i) => alive[i] === 0);
      return (await this.redis().eval(
        REGISTER,
        1,
        key,
        String(Date.now()),
        `${this.processId}/${streamId}`,
        String(limit),
        String(24 * 3600_000),
        ...dead,
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
      .set(this.heartbeatKey(this.processId), '1', 'PX', 30_000)
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

  private heartbeatKey(process: string): string {
    return `${this.config.redis.queuePrefix}:evproc:${process}`;
  }

  private redis(): RedisClient {
    if (!this.commands) {
      this.commands = createRedis(this.config.redis, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 1000,
        retryStrategy: (times: number) => Math.min(times * 250, 2000),
      });
      this.commands.on('error', (error: Error) => this.warn(`fan-out: ${error.message}`));
    }
    return this.commands;
  }

  private sub(): RedisClient {
    if (!this.subscriber) {
      const subscriber = createRedis(this.config.redis, {
        maxRetriesPerRequest: null,
        // The ready check sends INFO, which a connection already subscribing refuses (the first
        // streams subscribe while it connects): the subscriber would never report ready.
        enableReadyCheck: false,
        retryStrategy: (times: number) => Math.min(times * 250, 2000),
        // On a cluster: a subscriber per master, each SSUBSCRIBEd to the channels of its slots.
        shardedSubscribers: true,
      });
      subscriber.on('error', (error: Error) => this.warn(`fan-out subscriber: ${error.message}`));
      subscriber.on('ready', () => this.setState(true));
      subscriber.on('close', () => this.setState(false));
      if (subscriber instanceof Cluster) this.watchShards(subscriber);
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

  private setState(up: boolean, again = false): void {
    if (up === this.subscriberUp && !again) return;
    this.subscriberUp = up;
    for (const listener of this.stateListeners) listener(up);
  }

  /**
   * On a Redis Cluster the subscriber stays connected while one master is away, but the channels
   * of that master's slots go silent: the fan-out counts as down (streams read PostgreSQL) from a
   * lost node until every master answers again, checked each second and whenever the sharded
   * subscribers have (re)subscribed (then streams catch up once more, for what was published
   * before their channels were subscribed again).
   */
  private watchShards(subscriber: Cluster): void {
    const allMastersAnswer = async () => {
      const masters = subscriber.nodes('master');
      const pongs = await Promise.all(
        masters.map((node) =>
          Promise.race([
            node.ping().catch(() => null),
            new Promise<null>((resolve) => setTimeout(resolve, 500, null).unref()),
          ]),
        ),
      );
      return masters.length > 0 && pongs.every((pong) => pong === 'PONG');
    };
    let timer: NodeJS.Timeout | undefined;
    const check = async (again: boolean) => {
      if (!(await allMastersAnswer())) return;
      clearInterval(timer);
      timer = undefined;
      this.setState(true, again);
    };
    subscriber.on('-node', () => {
      this.setState(false);
      timer ??= setInterval(() => void check(false), 1000).unref();
    });
    subscriber.on('subscribersReady', () => void check(true));
    subscriber.on('end', () => clearInterval(timer));
  }

  private warn(message: string): void {
    if (Date.now() - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = Date.now();
    this.logger.warn(message);
  }
}

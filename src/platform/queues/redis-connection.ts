import Redis, { Cluster, type RedisOptions } from 'ioredis';
import type { AppConfig } from '../../config/app-config';

type RedisConfig = AppConfig['redis'];

/** A connection to the one Redis of REDIS_URL, or to the Redis Cluster of REDIS_CLUSTER_NODES. */
export type RedisClient = Redis | Cluster;

/** What a user of Redis asks of its connection; the same in both modes. */
export interface RedisConnectOptions {
  enableOfflineQueue?: boolean;
  enableReadyCheck?: boolean;
  lazyConnect?: boolean;
  maxRetriesPerRequest: number | null;
  commandTimeout?: number;
  connectTimeout?: number;
  /** The delay before reconnecting (to the Redis, or to the cluster once no node answers). */
  retryStrategy: (times: number) => number;
  /** On a cluster: one subscriber connection per master, for SSUBSCRIBE (ignored on one Redis). */
  shardedSubscribers?: boolean;
}

/**
 * A Redis connection (`new Redis(REDIS_URL, options)`, as always), or with REDIS_CLUSTER_NODES an
 * ioredis Cluster seeded from those nodes, each node connected with REDIS_URL's user, password
 * and TLS. The cluster follows MOVED/ASK redirections and refreshes its slot map; a master that
 * restarts on its address is connected to again once the cluster lists it.
 */
export function createRedis(redis: RedisConfig, options: RedisConnectOptions): RedisClient {
  const { shardedSubscribers, enableOfflineQueue, enableReadyCheck, lazyConnect, ...perNode } =
    options;
  if (!redis.clusterNodes) {
    return new Redis(redis.url, { enableOfflineQueue, enableReadyCheck, lazyConnect, ...perNode });
  }
  const { retryStrategy, ...nodeOptions } = perNode;
  return new Cluster(redis.clusterNodes, {
    enableOfflineQueue,
    enableReadyCheck,
    lazyConnect,
    shardedSubscribers,
    clusterRetryStrategy: retryStrategy,
    redisOptions: { ...nodeOptions, ...credentials(redis.url) },
  });
}

/**
 * Whether a Redis Cluster serves every slot (`cluster_state:ok`), asked within `timeoutMs`: its
 * connection stays up while a master is away, so only the cluster itself can tell. False when it
 * does not answer in time.
 */
export async function clusterStateOk(cluster: Cluster, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, '');
    timer.unref();
  });
  try {
    const info = await Promise.race([cluster.cluster('INFO'), timeout]);
    return /^cluster_state:ok\s*$/m.test(info);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether REDIS_CLUSTER_NODES names a Redis Cluster. */
export function isCluster(redis: RedisConfig): boolean {
  return redis.clusterNodes !== null;
}

/**
 * The BullMQ prefix of a queue. One Redis: QUEUE_PREFIX (keys `rm:<queue>:…`). A cluster: the
 * prefix and the queue as one hash tag (`{rm:<queue>}:<queue>:…`), so that each queue's keys
 * share a slot (BullMQ's scripts touch several of them at once) and the queues spread over the
 * masters.
 */
export function queuePrefix(redis: RedisConfig, queue: string): string {
  return redis.clusterNodes ? `{${redis.queuePrefix}:${queue}}` : redis.queuePrefix;
}

/**
 * The `connection` of BullMQ queues and workers. One Redis: options (BullMQ makes its
 * connections). A cluster: a Cluster instance, which BullMQ shares (and duplicates for a worker's
 * blocking connection) but never closes: its owner disconnects it.
 */
export function queueConnection(
  redis: RedisConfig,
  role: 'worker' | 'producer',
): RedisOptions | Cluster {
  const options = bullConnection(redis.url, role);
  if (!redis.clusterNodes) return options;
  return createRedis(redis, {
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? null,
    enableOfflineQueue: options.enableOfflineQueue,
    connectTimeout: options.connectTimeout,
    retryStrategy: (times: number) => Math.min(times * 250, 2000),
  }) as Cluster;
}

/** ioredis options for BullMQ from a redis:// URL. Workers block, so no per-request retries. */
export function bullConnection(url: string, role: 'worker' | 'producer'): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...credentials(url),
    db: parsed.pathname && parsed.pathname !== '/' ? Number(parsed.pathname.slice(1)) : 0,
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(times * 250, 2000),
  };
}

/** The user, password and TLS of a redis:// or rediss:// URL. */
function credentials(url: string): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  const parsed = new URL(url);
  return {
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

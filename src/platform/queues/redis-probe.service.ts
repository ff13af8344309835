import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { withTimeout } from './queue-registry';
import { clusterStateOk, createRedis, type RedisClient } from './redis-connection';

/**
 * Answers "does Redis answer?" within a short timeout, without ever throwing. On a Redis Cluster:
 * does a node answer and report `cluster_state:ok` (every slot served; with a master down and no
 * replica to take over, the cluster is not ok until it returns).
 */
@Injectable()
export class RedisProbe implements OnModuleDestroy {
  private readonly redis: RedisClient;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.redis = createRedis(config.redis, {
      // Queue while (re)connecting so a probe right after boot waits for the connection; the
      // command timeout still bounds every answer.
      enableOfflineQueue: true,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      retryStrategy: (times: number) => Math.min(times * 250, 2000),
    });
    this.redis.on('error', () => undefined);
  }

  async ping(): Promise<boolean> {
    try {
      if (this.redis instanceof Cluster) {
        // A command waits in the cluster's offline queue while no node answers: bounded.
        return await clusterStateOk(this.redis, 1000);
      }
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /**
   * Redis's eviction policy, or null when it cannot be read. BullMQ needs noeviction. On a
   * cluster, every master's: the first that is not noeviction, if any.
   */
  async maxmemoryPolicy(): Promise<string | null> {
    try {
      if (this.redis instanceof Cluster) {
        const cluster = this.redis;
        await withTimeout(cluster.ping(), 2000);
        const policies = await Promise.all(
          cluster.nodes('master').map(async (node) => {
            const reply = (await node.config('GET', 'maxmemory-policy')) as string[];
            return reply[1] ?? null;
          }),
        );
        return policies.find((policy) => policy !== 'noeviction') ?? policies[0] ?? null;
      }
      const reply = (await this.redis.config('GET', 'maxmemory-policy')) as string[];
      return reply[1] ?? null;
    } catch {
      return null;
    }
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}

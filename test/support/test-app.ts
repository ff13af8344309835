import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { loadConfig, type AppConfig } from '../../src/config/app-config';
import { createHttpApp } from '../../src/http-app';
import { createDatabaseFromTemplate, dropDatabase } from '../../src/platform/database/bootstrap';
import { mintToken } from '../../src/platform/auth/tokens';
import type { MemberRole, Visibility } from '../../src/platform/auth/roles';
import { OWNER_URL, REDIS_URL, runId, templateDb, urlFor } from './env';

/**
 * Rate limits no test reaches: for specs that are not about the limits (those set the one they
 * check explicitly, after this).
 */
export const UNTHROTTLED: Record<string, string> = {
  RATE_LIMIT_WRITES_PER_SECOND: '100000',
  RATE_LIMIT_READS_PER_SECOND: '100000',
  RATE_LIMIT_THREADS_PER_HOUR: '100000',
};

export interface Member {
  orgId: string;
  userId: string;
  role: MemberRole;
  displayName: string;
  token: string;
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** The variables the app was configured with (for spawning a worker process alike). */
  env: Record<string, string>;
  database: string;
  http: () => TestAgent;
  /** Starts an org (it exists from its first provisioning call). */
  createOrg(): string;
  createMember(
    orgId: string,
    options?: {
      role?: MemberRole;
      displayName?: string;
      visibility?: Visibility;
      readReceipts?: boolean;
    },
  ): Promise<Member>;
  tokenFor(claims: {
    sub: string;
    orgId?: string;
    role: Member['role'] | 'service';
    name?: string;
  }): string;
  serviceToken(): string;
  close(): Promise<void>;
}

/** A fresh database copied from the migrated template, for one spec file. */
export async function createTestDatabase(): Promise<string> {
  const name = `rm_t_${runId()}_${randomUUID().slice(0, 8)}`;
  await createDatabaseFromTemplate(OWNER_URL, name, templateDb());
  return name;
}

/** The environment a test app (or a worker process it spawns) runs with. */
export function testEnv(
  database: string,
  env: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: urlFor(database),
    REDIS_URL,
    QUEUE_PREFIX: `t-${randomUUID().slice(0, 8)}`,
    WORKER_ENABLED: 'false',
    // Spawned workers would all want the default health port.
    WORKER_HEALTH_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DEV_SEED: 'false',
    ...env,
  };
}

export function testConfig(database: string, env: Record<string, string> = {}): AppConfig {
  return loadConfig(testEnv(database, env));
}

/** Boots the real HTTP application (Fastify, guards, interceptors) against its own database. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const fullEnv = testEnv(database, env);
  const config = loadConfig(fullEnv);
  let app: NestFastifyApplication;
  try {
    app = await createHttpApp(config);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } catch (error) {
    await dropDatabase(OWNER_URL, database);
    throw error;
  }
  const secret = config.auth.jwtSecret ?? '';
  const http = () => request(app.getHttpServer());
  const tokenFor: TestApp['tokenFor'] = (claims) => mintToken(secret, claims);
  const serviceToken = () => tokenFor({ sub: randomUUID(), role: 'service' });
  let counter = 0;

  return {
    app,
    config,
    env: fullEnv,
    database,
    http,
    createOrg: () => randomUUID(),
    async createMember(orgId, options = {}) {
      const userId = randomUUID();
      const role = options.role ?? 'resident';
      const displayName = options.displayName ?? `Member ${++counter} ${userId.slice(0, 4)}`;
      const body: Record<string, unknown> = { displayName, role };
      if (options.visibility) body.visibility = options.visibility;
      if (options.readReceipts !== undefined) body.readReceipts = options.readReceipts;
      const res = await http()
        .put(`/api/v1/admin/orgs/${orgId}/members/${userId}`)
        .set('authorization', `Bearer ${serviceToken()}`)
        .send(body);
      if (res.status !== 201)
        throw new Error(`createMember: ${res.status} ${JSON.stringify(res.body)}`);
      return {
        orgId,
        userId,
        role,
        displayName,
        token: tokenFor({ sub: userId, orgId, role, name: displayName }),
      };
    },
    tokenFor,
    serviceToken,
    async close() {
      await app.close();
      await dropDatabase(OWNER_URL, database);
      await deleteRedisKeys(config.redis.url, `${config.redis.queuePrefix}:*`);
    },
  };
}

export const bearer = (member: { token: string }) => ({ authorization: `Bearer ${member.token}` });

/** Deletes a test's Redis keys (its own prefix), best effort: its Redis may be stopped by now. */
export async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // Nothing to clean, or nothing to clean it with.
  } finally {
    redis.disconnect();
  }
}

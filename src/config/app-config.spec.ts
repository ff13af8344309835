import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../app.module';
import { ConfigError, loadConfig, readDotEnv, requireOwnerUrl } from './app-config';

describe('loadConfig', () => {
  it('works with no variables in development, against localhost', () => {
    const config = loadConfig({});
    expect(config.nodeEnv).toBe('development');
    expect(config.database.ownerUrl).toBe('postgres://postgres@127.0.0.1:5432/resident_messaging');
    expect(config.database.appUrl).toBe(
      'postgres://rm_app:rm_app@127.0.0.1:5432/resident_messaging',
    );
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.auth.jwtSecret).toBeTruthy();
    expect(config.messageMaxLength).toBe(4000);
    expect(config.webhooks.retryScheduleSeconds).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
  });

  it('refuses to start in production without secrets, naming each variable', () => {
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of [
      'JWT_SECRET',
      'OPERATOR_USER',
      'OPERATOR_PASSWORD',
      'WEBHOOK_ENCRYPTION_KEY',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('asks each process only for the database connections it uses (no owner password in the API)', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(40),
      OPERATOR_USER: 'ops',
      OPERATOR_PASSWORD: 'a-long-password',
      WEBHOOK_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      DATABASE_APP_URL: 'postgres://rm_app:pw@db:5432/rm',
    });
    expect(config.database).toMatchObject({
      ownerUrl: null,
      appUrl: 'postgres://rm_app:pw@db:5432/rm',
      workerUrl: null,
    });
    expect(() => requireOwnerUrl(config)).toThrow(/DATABASE_URL/);
    expect(() => AppModule.forRoot(config, { http: false, worker: true })).toThrow(
      /DATABASE_WORKER_URL is required where the worker runs/,
    );
    expect(() =>
      AppModule.forRoot(
        { ...config, database: { ...config.database, appUrl: null } },
        { http: true, worker: false },
      ),
    ).toThrow(/DATABASE_APP_URL is required to run the API/);
  });

  it('accepts a complete production configuration', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://owner:pw@db:5432/rm',
      DATABASE_APP_URL: 'postgres://rm_app:pw@db:5432/rm',
      JWT_SECRET: 'x'.repeat(40),
      OPERATOR_USER: 'ops',
      OPERATOR_PASSWORD: 'a-long-password',
      WEBHOOK_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    expect(config.devSeed).toBe(false);
    expect(config.corsOrigins).toBe(false);
    expect(config.auth.maxAgeSeconds).toBe(24 * 3600);
  });

  it('takes an optional METRICS_TOKEN, long enough in production', () => {
    expect(loadConfig({}).metricsToken).toBeNull();
    expect(loadConfig({ METRICS_TOKEN: 'short' }).metricsToken).toBe('short');
    const prod = {
      NODE_ENV: 'production',
      DATABASE_APP_URL: 'postgres://rm_app:pw@db:5432/rm',
      JWT_SECRET: 'x'.repeat(40),
      OPERATOR_USER: 'ops',
      OPERATOR_PASSWORD: 'a-long-password',
      WEBHOOK_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    };
    expect(loadConfig(prod).metricsToken).toBeNull();
    expect(() => loadConfig({ ...prod, METRICS_TOKEN: 'short' })).toThrow(
      /METRICS_TOKEN must be at least 32 characters/,
    );
    expect(loadConfig({ ...prod, METRICS_TOKEN: 'm'.repeat(32) }).metricsToken).toBe(
      'm'.repeat(32),
    );
    expect(() => loadConfig({ METRICS_TOKEN: 'has a space' })).toThrow(/METRICS_TOKEN must be/);
  });

  it('limits token lifetimes (JWT_MAX_AGE): 24 h by default in production, none in development', () => {
    expect(loadConfig({}).auth.maxAgeSeconds).toBe(0);
    expect(loadConfig({ JWT_MAX_AGE: '2h' }).auth.maxAgeSeconds).toBe(7200);
    expect(loadConfig({ JWT_MAX_AGE: '900' }).auth.maxAgeSeconds).toBe(900);
    expect(() => loadConfig({ JWT_MAX_AGE: 'a day' })).toThrow(/JWT_MAX_AGE must be a duration/);
  });

  it("takes the identity provider's keys over https only in production", () => {
    const prod = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://owner:pw@db:5432/rm',
      DATABASE_APP_URL: 'postgres://rm_app:pw@db:5432/rm',
      OPERATOR_USER: 'ops',
      OPERATOR_PASSWORD: 'a-long-password',
      WEBHOOK_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    };
    expect(() => loadConfig({ ...prod, JWT_JWKS_URL: 'http://idp/jwks.json' })).toThrow(
      /JWT_JWKS_URL must be an https URL in production/,
    );
    expect(loadConfig({ ...prod, JWT_JWKS_URL: 'https://idp/jwks.json' }).auth.jwksUrl).toBe(
      'https://idp/jwks.json',
    );
    expect(loadConfig({ JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json' }).auth.jwksUrl).toBeTruthy();
  });

  it('reads REDIS_CLUSTER_NODES as seed nodes and refuses a malformed list', () => {
    expect(loadConfig({}).redis.clusterNodes).toBeNull();
    expect(
      loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002' }).redis
        .clusterNodes,
    ).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-b' })).toThrow(
      /REDIS_CLUSTER_NODES must be comma-separated host:port pairs .*not understood: redis-b/,
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:70000,,b:1' })).toThrow(
      /not understood: a:70000, \(empty\)/,
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:1', QUEUE_PREFIX: '{rm}' })).toThrow(
      /QUEUE_PREFIX must not contain \{ or \}/,
    );
    expect(() =>
      loadConfig({ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://127.0.0.1:6379/2' }),
    ).toThrow(/REDIS_URL must name no database/);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT must be an integer/);
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL must use/);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5,soon' })).toThrow(
      /WEBHOOK_RETRY_SCHEDULE/,
    );
    expect(() => loadConfig({ AUTH_JIT_PROVISIONING: 'maybe' })).toThrow(
      /AUTH_JIT_PROVISIONING must be true or false/,
    );
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' })).toThrow(
      /JWT_SECRET must be at least 32/,
    );
  });

  it('reads a local .env file under the environment (variables already set win)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rm-dotenv-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'RM_SPEC_FROM_FILE=file\nRM_SPEC_BOTH=file\n');
    process.env.RM_SPEC_BOTH = 'environment';
    try {
      const env = readDotEnv(file);
      expect(env.RM_SPEC_FROM_FILE).toBe('file');
      expect(env.RM_SPEC_BOTH).toBe('environment');
      expect(() => readDotEnv(join(dir, 'missing.env'))).not.toThrow();
    } finally {
      delete process.env.RM_SPEC_FROM_FILE;
      delete process.env.RM_SPEC_BOTH;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

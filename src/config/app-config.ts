/**
 * The one place that reads process.env. Everything else receives a validated, typed AppConfig.
 * With no variables set, development defaults work against PostgreSQL and Redis on localhost;
 * with NODE_ENV=production, secrets have no defaults and a missing one stops the start.
 */

import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

export type NodeEnv = 'development' | 'production' | 'test';

export interface AppConfig {
  nodeEnv: NodeEnv;
  host: string;
  port: number;
  /** The standalone worker's health endpoints (0: none). */
  workerHealthPort: number;
  database: {
    /** Owner connection: migrations and development bootstrap only (null: not given). */
    ownerUrl: string | null;
    /** Runtime connection of the API, as the app role (no ownership, no BYPASSRLS). */
    appUrl: string | null;
    /** When set, `migration:up` lets the app role log in with this password. */
    appPassword: string | null;
    /**
     * Runtime connection wherever the worker runs, as the worker role rm_worker: rm_app's rights
     * plus the relay's cross-org functions. Null: not configured (a worker refuses to start).
     */
    workerUrl: string | null;
    /** When set, `migration:up` lets the worker role log in with this password. */
    workerPassword: string | null;
    poolMax: number;
    acquireTimeoutMs: number;
  };
  redis: {
    /** The Redis, or (with clusterNodes) the credentials and TLS of every cluster node. */
    url: string;
    queuePrefix: string;
    /**
     * REDIS_CLUSTER_NODES: seed nodes of a Redis Cluster (ioredis Cluster, hash-tagged keys; see
     * docs/scaling.md). Null: the one Redis of REDIS_URL.
     */
    clusterNodes: { host: string; port: number }[] | null;
  };
  auth: {
    jwtSecret: string | null;
    jwksUrl: string | null;
    issuer: string | null;
    audience: string | null;
    jitProvisioning: boolean;
    /** Longest token lifetime accepted (exp − iat, or exp − now without iat), seconds; 0: any. */
    maxAgeSeconds: number;
  };
  workerEnabled: boolean;
  operator: { user: string; password: string; maxFailures: number };
  /**
   * GET /metrics also accepts `Authorization: Bearer <METRICS_TOKEN>` (for the Prometheus
   * scraper) besides the operator credentials. Null: operator credentials only.
   */
  metricsToken: string | null;
  /**
   * METRICS_ENABLED (default true). false: no GET /metrics, no request hooks and no default Node
   * metrics (the in-memory counters of the domain code still count; nobody can read them).
   */
  metricsEnabled: boolean;
  /**
   * Fastify's trustProxy: which proxies' X-Forwarded-For to believe for the client address
   * (operator sign-in throttling, logs). false: the connection's address.
   */
  trustProxy: boolean | string;
  webhooks: {
    allowPrivateUrls: boolean;
    retryScheduleSeconds: number[];
    encryptionKey: Buffer;
    timeoutMs: number;
    /** Deliveries of one endpoint in flight at once, over all workers (one while it fails). */
    concurrencyPerEndpoint: number;
    disableAfterHours: number;
    secretOverlapHours: number;
  };
  corsOrigins: string[] | true | false;
  logLevel: string;
  messageMaxLength: number;
  bodyLimitBytes: number;
  rateLimits: {
    writesPerSecond: number;
    readsPerSecond: number;
    threadsPerHour: number;
    /** Longer than this, a Redis answer is not waited for (the limit fails open). */
    redisTimeoutMs: number;
    /**
     * The per-user limits are decided in each API process and synced with Redis this often (one
     * pipeline for every counter touched): the longer, the fewer Redis calls and the more a burst
     * spread over several processes can pass the limit before they learn of each other.
     */
    syncMs: number;
  };
  outbox: { pollMs: number; batchSize: number };
  /** The real-time event stream (SPEC §4a). */
  events: {
    /** Streams one API process holds at most (503 with Retry-After beyond). */
    maxStreams: number;
    /** Streams one member holds at most across processes (the oldest closes). */
    maxStreamsPerMember: number;
    /** The comment line that keeps proxies from closing an idle stream, every this often. */
    pingMs: number;
    /** How far back a stream can resume (stream events older are pruned). */
    retentionHours: number;
    /** A stream whose unsent output exceeds this is closed (the client resumes). */
    maxBufferBytes: number;
    /** While Redis is away, streams catch up from PostgreSQL this often. */
    fallbackPollMs: number;
    /** Org batches a worker's event pump produces at once (each its own transaction). */
    pumpConcurrency: number;
    /** Stream tickets (EventSource clients) live this long. */
    ticketTtlSeconds: number;
  };
  /** BullMQ worker tuning: how long a job's lock lives, how often stalled jobs are looked for. */
  jobs: { lockMs: number; stalledIntervalMs: number; backoffMs: number };
  devSeed: boolean;
  /** The web app (web/dist) served at /app: on in development, WEB_APP_ENABLED in production. */
  webApp: { enabled: boolean; dir: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const DEV_JWT_SECRET = 'dev-only-jwt-secret-do-not-use-in-production-0123456789';
const DEV_WEBHOOK_KEY = Buffer.alloc(32, 7).toString('base64');
export const APP_ROLE = 'rm_app';
export const WORKER_ROLE = 'rm_worker';

/** What the process is for: it decides which database connection must be configured. */
export type Purpose = 'api' | 'worker' | 'migrations';

/**
 * The configuration of this process. Without an explicit environment it reads process.env, after
 * loading a `.env` file from the working directory when there is one (variables already set in
 * the environment win over the file). With a purpose, the connection it needs is required (in
 * production nothing derives it), in the same one message as every other problem.
 */
export function loadConfig(explicit?: Env, purpose?: Purpose): AppConfig {
  const env = explicit ?? readDotEnv();
  const problems: string[] = [];
  const read = new Reader(env, problems);

  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'], 'development');
  const prod = nodeEnv === 'production';

  // Each connection is required only where it is used, so that no process holds a password it
  // does not need: the owner's by migrations (and the development bootstrap), the app role's by
  // the API, the worker role's wherever the worker runs (AppModule checks the last two).
  const ownerUrl = read.optionalUrl(
    'DATABASE_URL',
    prod ? undefined : 'postgres://postgres@127.0.0.1:5432/resident_messaging',
    ['postgres:', 'postgresql:'],
  );
  const appPassword = read.optional('DATABASE_APP_PASSWORD') ?? null;
  const appUrl = read.optionalUrl(
    'DATABASE_APP_URL',
    prod ? undefined : deriveAppUrl(ownerUrl, appPassword ?? APP_ROLE),
    ['postgres:', 'postgresql:'],
  );

  const workerPassword = read.optional('DATABASE_WORKER_PASSWORD') ?? null;
  const workerUrl = read.optionalUrl(
    'DATABASE_WORKER_URL',
    prod ? undefined : deriveRoleUrl(ownerUrl, WORKER_ROLE, workerPassword ?? WORKER_ROLE),
    ['postgres:', 'postgresql:'],
  );

  const jwksUrl = read.optional('JWT_JWKS_URL');
  let jwtSecret = read.optional('JWT_SECRET');
  if (!jwksUrl) {
    if (!jwtSecret && !prod) jwtSecret = DEV_JWT_SECRET;
    if (!jwtSecret) problems.push('JWT_SECRET is required (or set JWT_JWKS_URL)');
    else if (prod && jwtSecret.length < 32)
      problems.push('JWT_SECRET must be at least 32 characters');
  } else if (prod && !/^https:\/\//.test(jwksUrl)) {
    problems.push('JWT_JWKS_URL must be an https URL in production');
  } else if (!/^https?:\/\//.test(jwksUrl)) {
    problems.push('JWT_JWKS_URL must be an http(s) URL');
  }

  const operatorUser = read.string('OPERATOR_USER', prod ? undefined : 'operator');
  const operatorPassword = read.string('OPERATOR_PASSWORD', prod ? undefined : 'operator');
  if (prod && operatorPassword && operatorPassword.length < 12)
    problems.push('OPERATOR_PASSWORD must be at least 12 characters');

  const metricsToken = read.optional('METRICS_TOKEN') ?? null;
  if (prod && metricsToken !== null && metricsToken.length < 32)
    problems.push('METRICS_TOKEN must be at least 32 characters');
  if (metricsToken !== null && !/^[\x21-\x7e]+$/.test(metricsToken))
    problems.push('METRICS_TOKEN must be printable ASCII without spaces');

  const keyText = read.string('WEBHOOK_ENCRYPTION_KEY', prod ? undefined : DEV_WEBHOOK_KEY);
  let encryptionKey = Buffer.alloc(32);
  if (keyText) {
    encryptionKey = Buffer.from(keyText, 'base64');
    if (encryptionKey.length !== 32)
      problems.push('WEBHOOK_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
  }

  const schedule = read.string('WEBHOOK_RETRY_SCHEDULE', '5,300,1800,7200,18000,36000,36000');
  const retryScheduleSeconds = (schedule ?? '').split(',').map((s) => Number(s.trim()));
  if (
    !retryScheduleSeconds.length ||
    retryScheduleSeconds.some((n) => !Number.isFinite(n) || n < 0)
  )
    problems.push('WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds, e.g. 5,300,1800');

  const redisUrl = read.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']) ?? '';
  const queuePrefix = read.string('QUEUE_PREFIX', 'rm') ?? 'rm';
  const clusterNodes = redisClusterNodes(read.optional('REDIS_CLUSTER_NODES'), problems);
  if (clusterNodes) {
    // Keys carry their own hash tags; a brace in the prefix would put them all in one slot.
    if (/[{}]/.test(queuePrefix))
      problems.push('QUEUE_PREFIX must not contain { or } with REDIS_CLUSTER_NODES');
    if (!/^\/?0?$/.test(urlPath(redisUrl)))
      problems.push('REDIS_URL must name no database (or 0) with REDIS_CLUSTER_NODES');
  }

  const cors = read.optional('CORS_ORIGINS');
  const corsOrigins: AppConfig['corsOrigins'] =
    cors === undefined ? !prod : cors === '*' ? true : cors.split(',').map((s) => s.trim());

  const config: AppConfig = {
    nodeEnv,
    host: read.string('HOST', '0.0.0.0') ?? '0.0.0.0',
    port: read.int('PORT', 3000, 0, 65535),
    workerHealthPort: read.int('WORKER_HEALTH_PORT', 3001, 0, 65535),
    database: {
      ownerUrl: ownerUrl ?? null,
      appUrl: appUrl ?? null,
      appPassword,
      workerUrl: workerUrl ?? null,
      workerPassword,
      poolMax: read.int('DATABASE_POOL_MAX', 16, 1, 500),
      acquireTimeoutMs: read.int('DATABASE_ACQUIRE_TIMEOUT_MS', 3000, 10, 120000),
    },
    redis: { url: redisUrl, queuePrefix, clusterNodes },
    auth: {
      jwtSecret: jwksUrl ? null : (jwtSecret ?? null),
      jwksUrl: jwksUrl ?? null,
      issuer: read.optional('JWT_ISSUER') ?? null,
      audience: read.optional('JWT_AUDIENCE') ?? null,
      jitProvisioning: read.bool('AUTH_JIT_PROVISIONING', true),
      maxAgeSeconds: read.duration('JWT_MAX_AGE', prod ? 24 * 3600 : 0),
    },
    workerEnabled: read.bool('WORKER_ENABLED', true),
    operator: {
      user: operatorUser ?? '',
      password: operatorPassword ?? '',
      maxFailures: read.int('OPERATOR_AUTH_MAX_FAILURES', 10, 1, 100000),
    },
    metricsToken,
    metricsEnabled: read.bool('METRICS_ENABLED', true),
    trustProxy: trustProxyOf(read.optional('TRUST_PROXY')),
    webhooks: {
      allowPrivateUrls: read.bool('WEBHOOKS_ALLOW_PRIVATE_URLS', false),
      retryScheduleSeconds,
      encryptionKey,
      timeoutMs: read.int('WEBHOOK_TIMEOUT_MS', 15000, 100, 120000),
      concurrencyPerEndpoint: read.int('WEBHOOK_CONCURRENCY_PER_ENDPOINT', 64, 1, 1000),
      disableAfterHours: read.int('WEBHOOK_DISABLE_AFTER_HOURS', 120, 1, 24 * 365),
      secretOverlapHours: read.int('WEBHOOK_SECRET_OVERLAP_HOURS', 24, 0, 24 * 30),
    },
    corsOrigins,
    logLevel: read.oneOf(
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      nodeEnv === 'test' ? 'silent' : 'info',
    ),
    messageMaxLength: read.int('MESSAGE_MAX_LENGTH', 4000, 1, 100000),
    bodyLimitBytes: read.int('BODY_LIMIT_BYTES', 256 * 1024, 1024, 10 * 1024 * 1024),
    rateLimits: {
      writesPerSecond: read.int('RATE_LIMIT_WRITES_PER_SECOND', 20, 1, 100000),
      readsPerSecond: read.int('RATE_LIMIT_READS_PER_SECOND', 100, 1, 100000),
      threadsPerHour: read.int('RATE_LIMIT_THREADS_PER_HOUR', 30, 1, 100000),
      redisTimeoutMs: read.int('RATE_LIMIT_REDIS_TIMEOUT_MS', 100, 5, 10000),
      syncMs: read.int('RATE_LIMIT_SYNC_MS', 20, 1, 1000),
    },
    outbox: {
      pollMs: read.int('OUTBOX_POLL_MS', 100, 10, 60000),
      batchSize: read.int('OUTBOX_BATCH_SIZE', 500, 1, 10000),
    },
    events: {
      maxStreams: read.int('EVENTS_MAX_STREAMS', 20000, 1, 1000000),
      maxStreamsPerMember: read.int('EVENTS_MAX_STREAMS_PER_MEMBER', 5, 1, 100),
      pingMs: read.int('EVENTS_PING_MS', 20000, 100, 25000),
      retentionHours: read.int('EVENTS_RETENTION_HOURS', 48, 24, 24 * 30),
      maxBufferBytes: read.int('EVENTS_MAX_BUFFER_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
      fallbackPollMs: read.int('EVENTS_FALLBACK_POLL_MS', 2000, 100, 60000),
      pumpConcurrency: read.int('EVENTS_PUMP_CONCURRENCY', 8, 1, 64),
      ticketTtlSeconds: read.int('EVENTS_TICKET_TTL_SECONDS', 60, 5, 600),
    },
    jobs: {
      lockMs: read.int('JOB_LOCK_MS', 30000, 500, 600000),
      stalledIntervalMs: read.int('JOB_STALLED_INTERVAL_MS', 30000, 500, 600000),
      backoffMs: read.int('JOB_BACKOFF_MS', 1000, 10, 600000),
    },
    devSeed: read.bool('DEV_SEED', nodeEnv === 'development'),
    webApp: {
      enabled: read.bool('WEB_APP_ENABLED', nodeEnv === 'development'),
      dir: read.string('WEB_APP_DIR', 'web/dist') ?? 'web/dist',
    },
  };
  if (prod && config.devSeed) problems.push('DEV_SEED cannot be enabled in production');
  if (purpose === 'migrations' && !config.database.ownerUrl)
    problems.push('DATABASE_URL (the owner connection) is required to run migrations');
  if (purpose === 'api' && !config.database.appUrl)
    problems.push('DATABASE_APP_URL is required to run the API');
  if (
    (purpose === 'worker' || (purpose === 'api' && config.workerEnabled)) &&
    !config.database.workerUrl
  )
    problems.push(
      'DATABASE_WORKER_URL is required where the worker runs (npm run start:worker, or WORKER_ENABLED=true)',
    );

  if (problems.length) throw new ConfigError(problems);
  return config;
}

/**
 * REDIS_CLUSTER_NODES: `host:port,host:port` (an IPv6 host in brackets, `[::1]:7000`); null when
 * not set.
 */
function redisClusterNodes(
  value: string | undefined,
  problems: string[],
): AppConfig['redis']['clusterNodes'] {
  if (value === undefined) return null;
  const nodes: { host: string; port: number }[] = [];
  const bad: string[] = [];
  for (const item of value.split(',').map((s) => s.trim())) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) bad.push(item === '' ? '(empty)' : item);
    else nodes.push({ host: match[1].replace(/^\[(.*)\]$/, '$1'), port });
  }
  if (bad.length) {
    problems.push(
      `REDIS_CLUSTER_NODES must be comma-separated host:port pairs (e.g. 10.0.0.1:7000,10.0.0.2:7000); not understood: ${bad.join(', ')}`,
    );
    return null;
  }
  return nodes;
}

function urlPath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}

function trustProxyOf(value: string | undefined): boolean | string {
  if (value === undefined || /^(false|0|no|off)$/i.test(value)) return false;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  return value;
}

/**
 * loadConfig for an entry point: a configuration problem is printed as one message and the
 * process exits with 78 (EX_CONFIG).
 */
export function loadConfigOrExit(purpose?: Purpose): AppConfig {
  try {
    return loadConfig(undefined, purpose);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

/**
 * `.env` in the working directory, when present, under what the environment already sets (the
 * precedence of Node's `--env-file`, parsed by Node's own parser; process.env is left as it is).
 */
export function readDotEnv(path = '.env'): Env {
  if (!existsSync(path)) return process.env;
  return { ...parseEnv(readFileSync(path, 'utf8')), ...process.env };
}

/** Development default for the runtime connection: the owner's database, as the app role. */
/** The owner connection, or a configuration error naming DATABASE_URL (migrations, bootstrap). */
export function requireOwnerUrl(config: AppConfig): string {
  if (!config.database.ownerUrl) {
    throw new ConfigError(['DATABASE_URL (the owner connection) is required to run migrations']);
  }
  return config.database.ownerUrl;
}

export function deriveAppUrl(
  ownerUrl: string | undefined,
  password = APP_ROLE,
): string | undefined {
  return deriveRoleUrl(ownerUrl, APP_ROLE, password);
}

/** The owner's database, as another role (development defaults). */
export function deriveRoleUrl(
  ownerUrl: string | undefined,
  role: string,
  password: string,
): string | undefined {
  if (!ownerUrl) return undefined;
  try {
    const url = new URL(ownerUrl);
    url.username = role;
    url.password = password;
    return url.toString();
  } catch {
    return undefined;
  }
}

class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  optional(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string | undefined): string | undefined {
    const value = this.optional(name) ?? fallback;
    if (value === undefined) this.problems.push(`${name} is required`);
    return value;
  }

  url(name: string, fallback: string | undefined, protocols: string[]): string | undefined {
    const value = this.string(name, fallback);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (!protocols.includes(url.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(' or ')}`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return value;
  }

  optionalUrl(name: string, fallback: string | undefined, protocols: string[]): string | undefined {
    const value = this.optional(name) ?? fallback;
    return value === undefined ? undefined : this.url(name, value, protocols);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max}`);
      return fallback;
    }
    return value;
  }

  /** Seconds: a plain number, or a number with s, m, h or d (`24h`). 0 means no limit. */
  duration(name: string, fallback: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const match = /^(\d+)\s*([smhd]?)$/i.exec(raw);
    if (!match) {
      this.problems.push(`${name} must be a duration in seconds, or with s, m, h or d (e.g. 24h)`);
      return fallback;
    }
    const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2].toLowerCase()] ?? 1;
    return Number(match[1]) * unit;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    this.problems.push(`${name} must be true or false`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')}`);
    return fallback;
  }
}

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const COMPOSE = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const SECRETS = [
  'JWT_SECRET',
  'OPERATOR_PASSWORD',
  'WEBHOOK_ENCRYPTION_KEY',
  'POSTGRES_PASSWORD',
  'DATABASE_APP_PASSWORD',
  'DATABASE_WORKER_PASSWORD',
];

const hasDockerCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;

/** One service's part of docker-compose.yml, up to the next service (or the volumes). */
function service(name: string): string {
  const start = COMPOSE.search(new RegExp(`\\n  ${name}:( &[a-z-]+)?\\n`));
  const end = COMPOSE.slice(start + 1).search(/\n {2}[a-z0-9-]+:( &[a-z-]+)?\n|\nvolumes:/);
  return COMPOSE.slice(start, start + 1 + end);
}

/** A top-level extension block (`x-…: &…`), up to the next top-level key. */
function extension(name: string): string {
  const start = COMPOSE.search(new RegExp(`\\n${name}: &[a-z-]+\\n`));
  const end = COMPOSE.slice(start + 1).search(/\n[a-z]/);
  return COMPOSE.slice(start, start + 1 + end);
}

/** What an API process runs with: x-api, which api and api-2 merge (`<<: *api`). */
const API = () => extension('x-api').replace(/\n {2}/g, '\n    ');

/** `docker-compose … config …` with only this env file (a developer's own .env is not read). */
function composeConfig(envFile: string, args: string[]) {
  return spawnSync(
    'docker-compose',
    ['--env-file', envFile, '-f', join(ROOT, 'docker-compose.yml'), ...args],
    { encoding: 'utf8', env: { PATH: process.env.PATH } },
  );
}

/** The compose file runs production: it must carry no secret of its own (issue 12). */
describe('docker-compose.yml', () => {
  it.each(SECRETS)('requires %s (no default value)', (name) => {
    const uses = [...COMPOSE.matchAll(new RegExp(`\\$\\{${name}(:?[-?][^}]*)?\\}`, 'g'))];
    expect(uses.length).toBeGreaterThan(0);
    for (const use of uses) expect(use[0]).toMatch(new RegExp(`^\\$\\{${name}:\\?`));
  });

  it('gives each process only the database password it uses', () => {
    expect(API()).toMatch(/DATABASE_APP_URL: postgres:\/\/rm_app:/);
    expect(service('worker')).toMatch(/DATABASE_WORKER_URL: postgres:\/\/rm_worker:/);
    for (const [name, foreign] of [
      ['x-api', ['POSTGRES_PASSWORD', 'DATABASE_WORKER_PASSWORD', 'DATABASE_URL:']],
      ['worker', ['POSTGRES_PASSWORD', 'DATABASE_APP_PASSWORD', 'DATABASE_URL:']],
    ] as const) {
      const text = name === 'x-api' ? API() : service(name);
      for (const secret of foreign)
        expect({ name, has: text.includes(secret) }).toEqual({ name, has: false });
    }
  });

  it('allows no browser origin unless CORS_ORIGINS is set', () => {
    expect(COMPOSE).toMatch(/CORS_ORIGINS: \$\{CORS_ORIGINS:-\}/);
  });

  it('hands METRICS_TOKEN to the API and the worker only, optional (empty: operator only)', () => {
    expect(API()).toMatch(/\n {6}METRICS_TOKEN: \$\{METRICS_TOKEN:-\}\n/);
    expect(service('worker')).toMatch(/\n {6}METRICS_TOKEN: \$\{METRICS_TOKEN:-\}\n/);
    expect(service('migrate')).not.toMatch(/METRICS_TOKEN/);
  });

  // Compose 1.29 interpolates every service, in a profile or not: a `:?` variable of the profile
  // would stop the default `docker compose up` of an .env written before the profile existed.
  it.each([
    ['prometheus', 'METRICS_TOKEN', 'METRICS_TOKEN'],
    ['grafana', 'GRAFANA_ADMIN_PASSWORD', 'GF_SECURITY_ADMIN_PASSWORD'],
  ])(
    'runs %s in the observability profile only, refusing to start without %s',
    (name, variable, inside) => {
      const text = service(name);
      expect(text).toMatch(/\n {4}profiles: \[observability\]\n/);
      expect(text).toContain(`${inside}: \${${variable}:-}`);
      expect(text).toContain(
        `[ -n "$$${inside}" ] || { echo "set ${variable} in .env (npm run secrets writes it)" >&2; exit 1; };`,
      );
      for (const use of COMPOSE.matchAll(new RegExp(`\\$\\{${variable}[^}]*\\}`, 'g')))
        expect(use[0]).toBe(`\${${variable}:-}`);
    },
  );

  it('keeps Grafana closed to anonymous visitors and sign-ups', () => {
    const grafana = service('grafana');
    expect(grafana).toMatch(/GF_AUTH_ANONYMOUS_ENABLED: 'false'/);
    expect(grafana).toMatch(/GF_USERS_ALLOW_SIGN_UP: 'false'/);
    expect(grafana).toMatch(/- '3002:3000'/);
  });

  it('runs a second API process, a second worker and nginx in the scaled profile only', () => {
    // The same services; api publishes 3000, api-2 nothing (no `ports: []` override of a merged
    // list, which Compose v2 has refused): both merge x-api.
    expect(service('api')).toMatch(/^\n {2}api:\n {4}<<: \*api\n {4}ports:\n {6}- '3000:3000'\n$/);
    expect(service('api-2')).toMatch(/\n {4}<<: \*api\n {4}profiles: \[scaled\]\n$/);
    expect(API()).not.toMatch(/ports:/);
    expect(service('worker')).toMatch(/^\n {2}worker: &worker\n/);
    expect(service('worker-2')).toMatch(/\n {4}<<: \*worker\n {4}profiles: \[scaled\]\n/);
    const balancer = service('balancer');
    expect(balancer).toMatch(/\n {4}profiles: \[scaled\]\n/);
    expect(balancer).toContain('- ./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(balancer).toContain("- '8080:8080'");
    expect(balancer).toMatch(
      /api:\n {8}condition: service_healthy\n {6}api-2:\n {8}condition: service_healthy/,
    );
    expect(API()).toMatch(/\n {6}TRUST_PROXY: \$\{TRUST_PROXY:-false\}\n/);

    // The balancer's upstream is exactly these two; test/scale/balanced.test.ts runs the same file.
    const nginx = readFileSync(join(ROOT, 'deploy/nginx/nginx.conf'), 'utf8');
    expect([...nginx.matchAll(/^\s*server (\S+);$/gm)].map((m) => m[1])).toEqual([
      'api:3000',
      'api-2:3000',
    ]);
    expect(nginx).toMatch(/^\s*listen 8080;$/m);
  });

  // Debian's docker-compose validates the file without a Docker engine (.ci/run installs it).
  (hasDockerCompose ? it : it.skip)(
    'refuses to run without the secrets, and validates with what npm run secrets writes',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'rm-compose-'));
      try {
        const envFile = join(dir, 'secrets.env');
        // An empty env file, so that a developer's own .env next to the compose file is not read.
        writeFileSync(join(dir, 'none.env'), '');
        const bare = spawnSync(
          'docker-compose',
          [
            '--env-file',
            join(dir, 'none.env'),
            '-f',
            join(ROOT, 'docker-compose.yml'),
            'config',
            '-q',
          ],
          { encoding: 'utf8', env: { PATH: process.env.PATH } },
        );
        expect(bare.status).not.toBe(0);
        expect(bare.stderr).toMatch(/npm run secrets/);
        execFileSync('node', ['-r', '@swc-node/register', 'src/cli/secrets.ts', envFile], {
          cwd: ROOT,
        });
        const ok = spawnSync(
          'docker-compose',
          ['--env-file', envFile, '-f', join(ROOT, 'docker-compose.yml'), 'config', '-q'],
          { encoding: 'utf8', env: { PATH: process.env.PATH } },
        );
        expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: '' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  (hasDockerCompose ? it : it.skip)(
    'validates the observability and scaled profiles with what npm run secrets writes, and the default profile with an older .env',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'rm-compose-'));
      try {
        const envFile = join(dir, 'secrets.env');
        execFileSync('node', ['-r', '@swc-node/register', 'src/cli/secrets.ts', envFile], {
          cwd: ROOT,
        });
        const written = readFileSync(envFile, 'utf8');
        const token = /^METRICS_TOKEN=(\S{32,})$/m.exec(written)?.[1];
        expect(token).toBeDefined();
        expect(written).toMatch(/^GRAFANA_ADMIN_PASSWORD=\S{12,}$/m);

        const scaled = composeConfig(envFile, ['--profile', 'scaled', 'config', '-q']);
        expect({ status: scaled.status, stderr: scaled.stderr }).toEqual({
          status: 0,
          stderr: '',
        });
        const profile = composeConfig(envFile, ['--profile', 'observability', 'config', '-q']);
        expect({ status: profile.status, stderr: profile.stderr }).toEqual({
          status: 0,
          stderr: '',
        });
        // The API processes, the workers and Prometheus get the same token (Compose 1.29 resolves
        // the scaled profile's api-2 and worker-2 too, whatever the profile).
        const resolved = composeConfig(envFile, ['--profile', 'observability', 'config']);
        expect(resolved.status).toBe(0);
        const tokens = [...resolved.stdout.matchAll(/^\s+METRICS_TOKEN: ['"]?([^'"\s]*)['"]?$/gm)];
        expect(tokens.length).toBeGreaterThanOrEqual(3);
        expect(new Set(tokens.map((m) => m[1]))).toEqual(new Set([token]));

        // Written by an npm run secrets that knew neither variable: the default profile still runs.
        const older = join(dir, 'older.env');
        writeFileSync(
          older,
          written
            .split('\n')
            .filter((line) => !/^(METRICS_TOKEN|GRAFANA_ADMIN_PASSWORD)=/.test(line))
            .join('\n'),
        );
        const ok = composeConfig(older, ['config', '-q']);
        expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: '' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

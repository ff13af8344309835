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

/** The compose file runs production: it must carry no secret of its own (issue 12). */
describe('docker-compose.yml', () => {
  it.each(SECRETS)('requires %s (no default value)', (name) => {
    const uses = [...COMPOSE.matchAll(new RegExp(`\\$\\{${name}(:?[-?][^}]*)?\\}`, 'g'))];
    expect(uses.length).toBeGreaterThan(0);
    for (const use of uses) expect(use[0]).toMatch(new RegExp(`^\\$\\{${name}:\\?`));
  });

  it('gives each process only the database password it uses', () => {
    const service = (name: string) => {
      const start = COMPOSE.indexOf(`\n  ${name}:\n`);
      const end = COMPOSE.slice(start + 1).search(/\n {2}[a-z]+:\n|\nvolumes:/);
      return COMPOSE.slice(start, start + 1 + end);
    };
    expect(service('api')).toMatch(/DATABASE_APP_URL: postgres:\/\/rm_app:/);
    expect(service('worker')).toMatch(/DATABASE_WORKER_URL: postgres:\/\/rm_worker:/);
    for (const [name, foreign] of [
      ['api', ['POSTGRES_PASSWORD', 'DATABASE_WORKER_PASSWORD', 'DATABASE_URL:']],
      ['worker', ['POSTGRES_PASSWORD', 'DATABASE_APP_PASSWORD', 'DATABASE_URL:']],
    ] as const) {
      for (const secret of foreign)
        expect({ name, has: service(name).includes(secret) }).toEqual({ name, has: false });
    }
  });

  it('allows no browser origin unless CORS_ORIGINS is set', () => {
    expect(COMPOSE).toMatch(/CORS_ORIGINS: \$\{CORS_ORIGINS:-\}/);
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
});

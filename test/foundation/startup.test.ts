import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/** Runs an entry point from source with the given environment only; resolves with how it ended. */
function run(
  entry: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, entry)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('starting with a bad production configuration', () => {
  it.each([
    ['src/main.ts', 'DATABASE_APP_URL', 'DATABASE_WORKER_URL'],
    ['src/worker.ts', 'DATABASE_WORKER_URL', 'DATABASE_APP_URL'],
  ])(
    '%s refuses with one message naming each missing variable (its own database connection only)',
    async (entry, connection, notNeeded) => {
      const { code, output } = await run(entry, {
        NODE_ENV: 'production',
        WORKER_ENABLED: 'false',
      });
      expect(code).toBe(78);
      expect(output).toContain('Invalid configuration');
      expect(output).not.toContain(notNeeded);
      expect(output).not.toContain('DATABASE_URL');
      for (const name of [
        connection,
        'JWT_SECRET',
        'OPERATOR_USER',
        'OPERATOR_PASSWORD',
        'WEBHOOK_ENCRYPTION_KEY',
      ]) {
        expect(output).toContain(name);
      }
    },
  );

  it('names a variable with a wrong value', async () => {
    const { code, output } = await run('src/main.ts', {
      NODE_ENV: 'production',
      PORT: 'eighty',
      JWT_SECRET: 'short',
    });
    expect(code).toBe(78);
    expect(output).toMatch(/PORT must be an integer/);
    expect(output).toMatch(/JWT_SECRET must be at least 32 characters/);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { stopProcess } from '../../bench/processes';

/** A process started from source (`node -r @swc-node/register src/….ts`). */
export interface SpawnedProcess {
  readonly label: string;
  readonly child: ChildProcess;
  /** The last 64 KiB of what it printed (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface ApiProcess extends SpawnedProcess {
  readonly port: number;
  /** `http://127.0.0.1:<port>`, for supertest's `request(url)`. */
  readonly url: string;
}

const OUTPUT_TAIL = 64 * 1024;
const START_TIMEOUT_MS = 60_000;

/** Every process started here and not yet exited: killed when the test process exits, at worst. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function spawnSource(label: string, script: string, env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join(__dirname, '../../src', script)],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const spawned: SpawnedProcess = {
    label,
    child,
    output: () => output,
    stop: (graceMs = 5_000) => stopProcess(child, graceMs),
  };
  return { spawned, exited };
}

/**
 * Waits for `ready` (polled every 50 ms) while the process runs; on a timeout or an early exit,
 * kills it and throws with its output, so that a failed start leaves no process behind.
 */
async function whenReady(
  spawned: SpawnedProcess,
  exited: () => boolean,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited()) {
      throw new Error(
        `${spawned.label} exited (${spawned.child.exitCode ?? spawned.child.signalCode}) before it was ready:\n${spawned.output()}`,
      );
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      await spawned.stop(0);
      throw new Error(
        `${spawned.label} not ready after ${START_TIMEOUT_MS} ms:\n${spawned.output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

/**
 * An API process (src/main.ts from source, no in-process worker) on a port of 127.0.0.1 the
 * system picks (PORT=0: no race with other tests for a "free" port); resolves once it says where
 * it listens and `/health/ready` answers 200 there.
 */
export async function spawnApi(env: Record<string, string>, label = 'api'): Promise<ApiProcess> {
  const { spawned, exited } = spawnSource(label, 'main.ts', {
    LOG_LEVEL: 'warn',
    ...env,
    HOST: '127.0.0.1',
    PORT: '0',
    WORKER_ENABLED: 'false',
  });
  let port = 0;
  await whenReady(spawned, exited, async () => {
    port ||= Number(LISTENING.exec(spawned.output())?.[1] ?? 0);
    return port > 0 && (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200;
  });
  return { ...spawned, port, url: `http://127.0.0.1:${port}` };
}

/**
 * A worker process (src/worker.ts from source); resolves once it logs that it started. Unlike
 * `spawnWorker` in async.ts, the process is tracked from the moment it is spawned, so a start that
 * fails or times out does not leave it running.
 */
export async function spawnTrackedWorker(
  env: Record<string, string>,
  label = 'worker',
): Promise<SpawnedProcess> {
  const { spawned, exited } = spawnSource(label, 'worker.ts', {
    ...env,
    LOG_LEVEL: 'info',
    WORKER_ENABLED: 'true',
  });
  await whenReady(spawned, exited, () =>
    Promise.resolve(spawned.output().includes('worker started')),
  );
  return spawned;
}

/** Stops every process started through this module that is still running. */
export async function stopAllSpawned(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

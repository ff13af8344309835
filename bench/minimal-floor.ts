import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ScenarioName } from './scenarios';

/**
 * The minimal floor (SPEC §5, ../shared/floor/): pgbench running the least SQL each hot operation
 * needs on a plain schema, nothing in between. The bench runs it in the same run as the routes
 * (right before them, and again after them so drift shows) and reports each route as a ratio to it.
 */

export type FloorScript = 'send' | 'page' | 'unread';

/** One script's figures, as run.sh prints them: `floor <script> <tx/s> tx/s p50 <ms> p99 <ms>`. */
export interface FloorFigure {
  tps: number;
  p50: number;
  p99: number;
}

export interface MinimalFloorRun {
  /** Before the routes, or after them (the drift between the two). */
  when: 'before' | 'after';
  /** Measured seconds per script (the scenarios' duration). */
  seconds: number;
  /** Wall time of the whole call (making and seeding its database included). */
  wallSeconds: number;
  figures: Partial<Record<FloorScript, FloorFigure>>;
}

export interface MinimalFloorReport {
  /** The script that ran (absolute), or null when none did. */
  path: string | null;
  /** Why the minimal floor is not in this run (absent script, --no-minimal-floor, a failure). */
  skipped: string | null;
  runs: MinimalFloorRun[];
  /** A run that failed after the first succeeded (the drift then unknown). */
  notes?: string[];
}

/**
 * What a route is compared with, and the ratio SPEC §5 / issue 17 ask of it: send, thread page
 * and unread count at least half of their own script's floor; the thread list (a page per thread)
 * at least 0.3 of the page floor. Other scenarios have no minimal floor.
 */
export const MINIMAL_FLOOR_TARGETS: Partial<
  Record<ScenarioName, { script: FloorScript; ratio: number }>
> = {
  send: { script: 'send', ratio: 0.5 },
  'thread-page': { script: 'page', ratio: 0.5 },
  'unread-count': { script: 'unread', ratio: 0.5 },
  'thread-list': { script: 'page', ratio: 0.3 },
};

/** `<repo>/../shared/floor/run.sh`: where the project keeps it beside the repository. */
export function defaultMinimalFloorPath(repoRoot: string): string {
  return resolve(repoRoot, '..', 'shared', 'floor', 'run.sh');
}

/** The scripts the scenarios need, in run.sh's order. */
export function floorScripts(scenarios: readonly ScenarioName[]): FloorScript[] {
  const wanted = new Set(scenarios.map((s) => MINIMAL_FLOOR_TARGETS[s]?.script).filter(Boolean));
  return (['send', 'page', 'unread'] as const).filter((s) => wanted.has(s));
}

/** Reads run.sh's output; a line it cannot read is ignored, a missing `floor done` is an error. */
export function parseMinimalFloor(output: string): Partial<Record<FloorScript, FloorFigure>> {
  const figures: Partial<Record<FloorScript, FloorFigure>> = {};
  let done = false;
  for (const line of output.split('\n')) {
    if (/^floor done\b/.test(line.trim())) done = true;
    const m =
      /^floor (send|page|unread) (\d+(?:\.\d+)?) tx\/s p50 (\d+(?:\.\d+)?) p99 (\d+(?:\.\d+)?)/.exec(
        line.trim(),
      );
    if (m) {
      figures[m[1] as FloorScript] = { tps: Number(m[2]), p50: Number(m[3]), p99: Number(m[4]) };
    }
  }
  if (!done) throw new Error(`the minimal floor did not finish:\n${output.slice(-2000)}`);
  return figures;
}

/**
 * Runs run.sh for `seconds` per script against the PostgreSQL server of `ownerUrl` (it makes,
 * seeds and drops its own throw-away database there).
 */
export async function runMinimalFloor(o: {
  path: string;
  ownerUrl: string;
  seconds: number;
  scripts: FloorScript[];
  when: MinimalFloorRun['when'];
  /** pgbench clients (run.sh's default is 16). */
  clients?: number;
}): Promise<MinimalFloorRun> {
  const server = new URL(o.ownerUrl);
  server.pathname = '';
  const started = performance.now();
  const output = await new Promise<string>((done, fail) => {
    const child = spawn('bash', [o.path, String(o.seconds), o.scripts.join(' ')], {
      env: {
        ...process.env,
        FLOOR_PG_URL: server.toString().replace(/\/$/, ''),
        ...(o.clients ? { FLOOR_CLIENTS: String(o.clients) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0
        ? done(text)
        : fail(new Error(`${o.path} exited with ${code}:\n${text.slice(-2000)}`)),
    );
  });
  return {
    when: o.when,
    seconds: o.seconds,
    wallSeconds: (performance.now() - started) / 1000,
    figures: parseMinimalFloor(output),
  };
}

/** Why the minimal floor cannot run from `path`, or null when it can. */
export function minimalFloorMissing(path: string): string | null {
  return existsSync(path)
    ? null
    : `the minimal floor is not in this run: ${path} is absent (the project keeps it in ../shared/floor/ beside the repository; --minimal-floor <path> names another)`;
}

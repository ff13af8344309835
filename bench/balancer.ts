import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { freePort, stopProcess } from './processes';

/** The repository: bench/ from source (jest, swc), dist/bench/ when built. */
const ROOT = join(__dirname, basename(dirname(__dirname)) === 'dist' ? '../..' : '..');

/** The balancer of `docker compose --profile scaled` (nginx), committed beside the compose file. */
export const NGINX_CONF = join(ROOT, 'deploy', 'nginx', 'nginx.conf');

/** nginx on the PATH, else where Debian puts it (/usr/sbin is not on a user's PATH); or null. */
function nginxBinary(): string | null {
  for (const candidate of ['nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

/** Whether Debian's (or any) nginx is installed. */
export function hasNginx(): boolean {
  return nginxBinary() !== null;
}

export const NGINX_MISSING =
  'nginx is not installed: the balancer tests and `npm run bench -- --api-processes` run ' +
  'deploy/nginx/nginx.conf with it (apt-get install nginx-light; .ci/run installs it)';

/**
 * deploy/nginx/nginx.conf for a local nginx: the same file with only the upstream's `server`
 * lines (`upstreams`, host:port each), the `listen` port and the paths (logs, temporary files)
 * changed. Throws if the file no longer has what is replaced, so that the test cannot drift
 * from the deployed configuration silently.
 */
export function renderNginxConfig(
  template: string,
  options: { upstreams: string[]; port: number; dir: string },
): string {
  const servers = /^( *)server api(?:-\d+)?:3000;\n/gm;
  const lines = [...template.matchAll(servers)];
  if (!lines.length) throw new Error(`${NGINX_CONF}: no \`server api:3000;\` line in the upstream`);
  if (!/^ *listen 8080;$/m.test(template)) throw new Error(`${NGINX_CONF}: no \`listen 8080;\``);
  if (!/^http \{$/m.test(template)) throw new Error(`${NGINX_CONF}: no \`http {\` line`);
  const indent = lines[0][1];
  let first = true;
  return template
    .replace(servers, () => {
      if (!first) return '';
      first = false;
      return options.upstreams.map((u) => `${indent}server ${u};\n`).join('');
    })
    .replace(/^( *)listen 8080;$/m, `$1listen 127.0.0.1:${options.port};`)
    .replaceAll('/var/log/nginx/', `${options.dir}/`)
    .replace(
      /^http \{$/m,
      // Temporary files where this user may write (Debian's are /var/lib/nginx/*, www-data's).
      `http {\n    client_body_temp_path ${options.dir}/client_body;\n    proxy_temp_path ${options.dir}/proxy;`,
    );
}

export interface Balancer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** nginx's master process. */
  readonly pid: number;
  readonly dir: string;
  /** The access log's lines so far (format `upstream` of nginx.conf). */
  accessLog(): AccessLogLine[];
  output(): string;
  stop(): Promise<void>;
}

export interface AccessLogLine {
  request: string;
  status: number;
  /** The API process that answered (host:port), or several when nginx moved on from one. */
  upstream: string;
  requestId: string;
}

const LOG_LINE = /"([^"]*)" (\d{3}) \d+ upstream=(\S+) upstream_time=\S+ time=\S+ id=(\S+)$/;

const running = new Set<ChildProcess>();
process.once('exit', () => {
  // SIGTERM: nginx's master stops its worker processes itself (SIGKILL would orphan them).
  for (const child of running) child.kill('SIGTERM');
});

/**
 * deploy/nginx/nginx.conf run by a local nginx (not a daemon: a child of this process) on a free
 * port of 127.0.0.1, in front of `upstreams`; resolves once it accepts connections. Its
 * configuration, logs and temporary files go to `options.dir` (kept), else to a temporary
 * directory removed when it stops.
 */
export async function startBalancer(
  upstreams: string[],
  options: { dir?: string } = {},
): Promise<Balancer> {
  const nginx = nginxBinary();
  if (!nginx) throw new Error(NGINX_MISSING);
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'rm-nginx-'));
  mkdirSync(dir, { recursive: true });
  const remove = () => {
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  };
  const template = readFileSync(NGINX_CONF, 'utf8');
  let lastError: Error | undefined;
  // A free port can be taken between freePort() and nginx's bind: try again on another.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    for (const sub of ['client_body', 'proxy']) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(conf, renderNginxConfig(template, { upstreams, port, dir }));
    const root = process.getuid?.() === 0;
    const child = spawn(
      nginx,
      [
        '-p',
        `${dir}/`,
        '-e',
        join(dir, 'error.log'),
        '-c',
        conf,
        // As root, nginx's workers would run as nobody, who may not enter this directory.
        '-g',
        `daemon off; pid ${join(dir, 'nginx.pid')};${root ? ' user root;' : ''}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(child);
    child.once('exit', () => running.delete(child));
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const errors = () => {
      try {
        return readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {
        return '';
      }
    };
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      // Any answer (even a 502 while no API process runs) means nginx listens.
      up = await fetch(`${url}/health/live`).then(
        () => true,
        () => false,
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (up) {
      return {
        url,
        port,
        pid: child.pid!,
        dir,
        output: () => `${output}${errors()}`,
        accessLog: () => {
          let text = '';
          try {
            text = readFileSync(join(dir, 'access.log'), 'utf8');
          } catch {
            return [];
          }
          return text
            .split('\n')
            .map((line) => LOG_LINE.exec(line))
            .filter((m): m is RegExpExecArray => m !== null)
            .map((m) => ({
              request: m[1],
              status: Number(m[2]),
              upstream: m[3],
              requestId: m[4],
            }));
        },
        stop: async () => {
          await stopProcess(child, 5_000);
          remove();
        },
      };
    }
    await stopProcess(child, 2_000);
    lastError = new Error(`nginx did not start on port ${port}:\n${output}${errors()}`);
    if (!/Address already in use/.test(`${output}${errors()}`)) break;
  }
  remove();
  throw lastError ?? new Error('nginx did not start');
}

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Every redis-server started here and running: killed when the test process exits, at worst. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A local Redis Cluster of masters only (no replicas), one redis-server per loopback port. */
export interface LocalRedisCluster {
  readonly ports: number[];
  /** `127.0.0.1:P1,127.0.0.1:P2,…`, for REDIS_CLUSTER_NODES. */
  readonly nodes: string;
  /** The port of the master that serves `key`'s slot. */
  masterOf(key: string): Promise<number>;
  /** SIGKILL the master on `port` (it keeps its nodes.conf, not its data: no persistence). */
  kill(port: number): Promise<void>;
  /** Starts the master on `port` again, with its nodes.conf: it rejoins with its slots, empty. */
  restart(port: number): Promise<void>;
  /** Resolves once every running node reports `cluster_state:ok`. */
  waitOk(timeoutMs?: number): Promise<void>;
  /** `CLUSTER INFO`'s cluster_state as one node sees it. */
  state(port: number): Promise<string>;
  /** Kills every node and removes the directory. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Whether `port` can be listened on at 127.0.0.1 just now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` ports whose cluster bus port (port + 10000) is free too, away from the usual ones. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    // Below the ephemeral range (32768+), bus ports included.
    const port = 21000 + Math.floor(Math.random() * 1700);
    if (ports.some((p) => Math.abs(p - port) < 2)) continue;
    if ((await portFree(port)) && (await portFree(port + 10000))) ports.push(port);
  }
  return ports;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await exec('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 5_000,
  });
  return stdout;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `masters` redis-servers with `--cluster-enabled yes` in a temporary directory and joins
 * them with `redis-cli --cluster create` (no replicas). A short node timeout makes the others
 * notice a killed master within a second or two.
 */
export async function startRedisCluster(masters = 3): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'rm-redis-cluster-'));
  const ports = await freePorts(masters);
  const servers = new Map<number, ChildProcess>();
  let stopped = false;

  const start = async (port: number) => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '1000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--dir',
        dir,
        '--loglevel',
        'warning',
      ],
      { stdio: 'ignore' },
    );
    servers.set(port, child);
    running.add(child);
    child.once('exit', () => running.delete(child));
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited`);
      if ((await cli(port, 'PING').catch(() => '')).trim() === 'PONG') return;
      await sleep(50);
    }
    throw new Error(`redis-server on ${port} did not answer`);
  };

  const cluster: LocalRedisCluster = {
    ports,
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    async masterOf(key) {
      const slot = Number((await cli(ports[0], 'CLUSTER', 'KEYSLOT', key)).trim());
      // CLUSTER NODES: `<id> <ip:port@bus> <flags> <master> … <from-to> <from-to> …`
      for (const line of (await cli(ports[0], 'CLUSTER', 'NODES')).split('\n')) {
        const fields = line.trim().split(' ');
        if (!fields[2]?.includes('master')) continue;
        const owns = fields.slice(8).some((range) => {
          const [from, to = from] = range.split('-').map(Number);
          return slot >= from && slot <= to;
        });
        if (owns) return Number(/:(\d+)@/.exec(fields[1])?.[1]);
      }
      throw new Error(`no master serves slot ${slot} (${key})`);
    },
    async kill(port) {
      const child = servers.get(port);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
    async restart(port) {
      await start(port);
    },
    async state(port) {
      const info = await cli(port, 'CLUSTER', 'INFO');
      return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
    },
    async waitOk(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(ports.map((p) => cluster.state(p).catch(() => 'down')));
        if (states.every((s) => s === 'ok')) return;
        if (Date.now() > deadline) throw new Error(`cluster not ok: ${states.join(', ')}`);
        await sleep(100);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(ports.map((port) => cluster.kill(port)));
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await Promise.all(ports.map(start));
    await exec(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    await cluster.waitOk();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

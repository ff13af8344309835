import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Client } from 'pg';
import { findEjabberdctl, runEjabberd, type EjabberdReport } from '../../bench/ejabberd';
import { stopAll } from '../../bench/processes';
import { OWNER_URL, runId } from '../support/env';

/** Beam processes (Erlang VMs) of the bench's ejabberd nodes still running. */
function benchNodes(): string[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      } catch {
        return [];
      }
    })
    .filter((args) => args[0]?.includes('beam') && args.some((a) => /^rmbench\w+@/.test(a)))
    .map((args) => args.find((a) => /^rmbench\w+@/.test(a))!);
}

async function databaseExists(name: string): Promise<boolean> {
  const c = new Client({ connectionString: OWNER_URL });
  await c.connect();
  try {
    const { rowCount } = await c.query('select 1 from pg_database where datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await c.end();
  }
}

/**
 * The ejabberd stage of the bench end to end, for a second at two connections: where Debian's
 * ejabberd is installed, it starts on its own database, every accepted send is archived, and
 * afterwards nothing of it is left running; where it is not, the stage says so.
 */
describe('bench: ejabberd beside the service', () => {
  const database = `rm_t_${runId()}_ejabberd`;
  const ctl = findEjabberdctl();

  afterAll(() => stopAll());

  it('says why when ejabberdctl is absent, without failing the bench', async () => {
    const report = await runEjabberd({
      ownerUrl: OWNER_URL,
      ctl: null,
      users: 4,
      connections: [2],
      seconds: 1,
      warmupSeconds: 0,
      log: () => undefined,
    });
    expect(report.skipped).toMatch(/^ejabberd is not installed/);
    expect(report.runs).toEqual([]);
  });

  (ctl ? it : it.skip)(
    'archives every send it accepts, then stops and drops its database',
    async () => {
      const report: EjabberdReport = await runEjabberd({
        ownerUrl: OWNER_URL,
        database,
        ctl,
        users: 6,
        connections: [2],
        seconds: 1,
        warmupSeconds: 0,
        log: () => undefined,
      });
      expect(report.skipped).toBeNull();
      expect(report.version).toMatch(/^\d+\.\d+/);
      expect(report.runs).toHaveLength(1);
      const [run] = report.runs;
      expect(run.result.completed).toBeGreaterThan(0);
      expect(run.result.non2xx + run.result.errors).toBe(0);
      // The sender's and the recipient's archive.
      expect(run.rowsPerMessage).toBe(2);
      // At most the two requests in flight when the load stopped are archived beyond the count.
      expect(run.archiveRows).toBeGreaterThanOrEqual(2 * run.result.completed);
      expect(run.archiveRows).toBeLessThanOrEqual(2 * (run.result.completed + 2));
      expect(run.sample?.cpu.api).toBeGreaterThan(0);
      expect(benchNodes()).toEqual([]);
      expect(await databaseExists(database)).toBe(false);
      const listening = execFileSync('ss', ['-Hltn'], { encoding: 'utf8' });
      expect(listening).not.toMatch(/:(5222|5269|5280)\s/);
    },
    120_000,
  );
});

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, join } from 'node:path';

/**
 * Preloaded into the service processes by `npm run bench -- --cpu-prof` (node --require): samples
 * the CPU from start to SIGTERM/SIGINT and writes a .cpuprofile into BENCH_CPU_PROF_DIR. (Node's
 * own --cpu-prof writes nothing here: Nest's shutdown hooks end the process by re-raising the
 * signal, and V8 only writes that profile on a normal exit.) Summarise with bench/profile.ts.
 */
const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  const entry = basename(process.argv[1] ?? 'node', '.js');
  const stop = () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) {
        writeFileSync(
          join(dir, `${entry}-${process.pid}.cpuprofile`),
          JSON.stringify(result.profile),
        );
      }
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

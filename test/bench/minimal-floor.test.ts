import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  defaultMinimalFloorPath,
  floorScripts,
  minimalFloorMissing,
  parseMinimalFloor,
} from '../../bench/minimal-floor';

const repo = resolve(__dirname, '..', '..');

/** How the bench reads ../shared/floor/run.sh, the minimal floor of SPEC §5. */
describe('bench: the minimal floor', () => {
  it('reads the figures run.sh prints, per script', () => {
    const output = [
      'floor send 1019 tx/s p50 14.21 p99 41.07',
      'floor page 4870 tx/s p50 3.01 p99 9.50',
      'floor unread 2300 tx/s p50 6.00 p99 20.10',
      'floor done',
    ].join('\n');
    expect(parseMinimalFloor(output)).toEqual({
      send: { tps: 1019, p50: 14.21, p99: 41.07 },
      page: { tps: 4870, p50: 3.01, p99: 9.5 },
      unread: { tps: 2300, p50: 6, p99: 20.1 },
    });
  });

  it('refuses output that stops before "floor done"', () => {
    expect(() => parseMinimalFloor('floor send 1019 tx/s p50 14.21 p99 41.07\n')).toThrow(
      /did not finish/,
    );
  });

  it('runs only the scripts the scenarios need (the thread list is compared with the page floor)', () => {
    expect(floorScripts(['thread-list', 'send'])).toEqual(['send', 'page']);
    expect(floorScripts(['mixed', 'after-poll'])).toEqual([]);
  });

  it('looks for it beside the repository and says so when it is absent', () => {
    expect(defaultMinimalFloorPath(repo)).toBe(resolve(repo, '..', 'shared', 'floor', 'run.sh'));
    const absent = join(repo, 'no-such-floor', 'run.sh');
    expect(minimalFloorMissing(absent)).toContain(`${absent} is absent`);
  });

  const script = defaultMinimalFloorPath(repo);
  (existsSync(script) ? it : it.skip)('agrees with the line the shared run.sh prints', () => {
    const echo = /echo "(floor \$s \$tps tx\/s p50 \$p50 p99 \$p99)"/.exec(
      readFileSync(script, 'utf8'),
    );
    expect(echo).not.toBeNull();
    const line = echo![1]
      .replace('$s', 'send')
      .replace('$tps', '900')
      .replace('$p50', '1.20')
      .replace('$p99', '4.50');
    expect(parseMinimalFloor(`${line}\nfloor done\n`)).toEqual({
      send: { tps: 900, p50: 1.2, p99: 4.5 },
    });
  });
});

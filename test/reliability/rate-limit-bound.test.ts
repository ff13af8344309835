import { WindowCounter, type Waiter } from '../../src/platform/ratelimit/window-counter';

/**
 * The bound of the process-local rate limits (docs/scaling.md, "Rate limits across processes"),
 * checked on the real decision rule (WindowCounter) under adversarial interleavings: P processes
 * share one window's limit L; each admits, refuses or queues requests, and its syncs are sent,
 * run by Redis and answered at arbitrary moments (the script's arithmetic stands in for Redis
 * here: this checks the rule, rate-limits.test.ts checks the service against a real Redis).
 * However the events fall: one process admits exactly min(L, requests) and never waits; P
 * processes admit at least min(L, requests) and at most L + (P − 1) × ceil(L / P).
 */

/** A small seeded generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sync {
  hits: number;
  asked: Waiter[];
  answer?: [number, number];
}

function window(limit: number, processes: number, steps: number, next: () => number) {
  let redis = 0;
  let admitted = 0;
  let requests = 0;
  let waited = 0;
  const counters = Array.from({ length: processes }, () => {
    const c = new WindowCounter('writes:org:user', limit, 1000);
    c.roll(0, processes);
    return c;
  });
  const syncs: Array<Sync | undefined> = Array(processes).fill(undefined);
  const verdict: Waiter = (v) => {
    if (v === 0) admitted++;
  };
  const send = (i: number) => {
    if (!syncs[i] && counters[i].dirty) syncs[i] = counters[i].take();
  };
  const run = (i: number) => {
    const s = syncs[i];
    if (!s || s.answer) return;
    redis += s.hits;
    const granted = redis < limit ? Math.min(limit - redis, s.asked.length) : 0;
    redis += granted;
    s.answer = [redis, granted];
  };
  const answer = (i: number) => {
    const s = syncs[i];
    if (!s?.answer) return;
    const [count, granted] = s.answer;
    const counter = counters[i];
    counter.answered(s.hits, count, processes);
    if (counter.asked === s.asked) counter.asked = [];
    s.asked.forEach((w, n) => w(n < granted ? 0 : 1));
    syncs[i] = undefined;
  };
  for (let step = 0; step < steps; step++) {
    const i = Math.floor(next() * processes);
    const event = next();
    if (event < 0.55) {
      requests++;
      const decision = counters[i].decide();
      if (decision === 'admit') admitted++;
      else if (decision === 'wait') {
        waited++;
        counters[i].waiting.push(verdict);
      }
    } else if (event < 0.7) send(i);
    else if (event < 0.85) run(i);
    else answer(i);
  }
  // Every process syncs until nothing is pending or waiting.
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < processes; i++) {
      run(i);
      answer(i);
      send(i);
      run(i);
      answer(i);
    }
  }
  if (!counters.every((c) => c.idle) || redis !== admitted) throw new Error('not drained');
  return { admitted, requests, waited };
}

describe('the bound of the process-local rate limits', () => {
  for (const processes of [1, 2, 3, 4]) {
    it(`${processes} process${processes > 1 ? 'es' : ''}: between min(L, requests) and L + ${processes - 1} × ceil(L / ${processes})`, () => {
      for (const limit of [1, 2, 3, 5, 10, 20]) {
        const next = random(limit * 100 + processes);
        const bound = limit + (processes - 1) * Math.ceil(limit / processes);
        let highest = 0;
        const wrong: string[] = [];
        for (let run = 0; run < 3000 && wrong.length < 5; run++) {
          const steps = 5 + Math.floor(next() * 120);
          const { admitted, requests, waited } = window(limit, processes, steps, next);
          highest = Math.max(highest, admitted);
          if (admitted < Math.min(limit, requests) || admitted > bound)
            wrong.push(`L=${limit} run ${run}: ${admitted} admitted of ${requests}`);
          if (processes === 1 && (admitted !== Math.min(limit, requests) || waited > 0))
            wrong.push(`L=${limit} run ${run}: ${admitted} of ${requests}, ${waited} waited`);
        }
        expect(wrong).toEqual([]);
        // The bound is reached (the interleavings find the worst case): it is tight.
        expect({ limit, highest }).toEqual({ limit, highest: bound });
      }
    });
  }
});

import autocannon from 'autocannon';
import { toHttp, type OperationSource } from './scenarios';
import type { LoadResult } from './stats';

/**
 * Drives the service over HTTP with autocannon: `connections` keep-alive connections, each
 * request drawn from `source` (a different user, thread and token each time).
 */
export async function runHttp(options: {
  url: string;
  connections: number;
  seconds: number;
  source: OperationSource;
}): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        setupRequest: (request) => {
          const http = toHttp(options.source.next());
          return { ...request, ...http };
        },
      },
    ],
  });
  return toLoadResult(result);
}

/** An autocannon result as the bench reports a load (stats.ts). */
export function toLoadResult(result: autocannon.Result): LoadResult {
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = stat.count ?? 0;
  }
  return {
    rps: result.requests.total / result.duration,
    completed: result.requests.total,
    seconds: result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
    samples: [],
  };
}

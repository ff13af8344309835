import { dropDatabase } from '../../src/platform/database/bootstrap';
import { OWNER_URL } from '../support/env';
import { spawnApi, stopAllSpawned, type ApiProcess } from '../support/processes';
import { createTestDatabase, testEnv } from '../support/test-app';

const REQUESTS = 25;

/** The log lines of requests to `route`, as the process printed them. */
function requestLines(output: string, route: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.msg === 'request completed' && entry.route === route);
}

/**
 * Request log lines are buffered (many share one write) and none is lost when the process stops:
 * every request of a burst has its line once the API has exited after a SIGTERM.
 */
describe('request logs', () => {
  let database: string;
  let api: ApiProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await spawnApi(testEnv(database, { LOG_LEVEL: 'info' }), 'api-logs');
  }, 90_000);
  afterAll(async () => {
    await stopAllSpawned();
    await dropDatabase(OWNER_URL, database);
  });

  it('writes one line per request, and every line of a burst by the time the process has stopped', async () => {
    const url = `${api!.url}/api/v1/me`;
    const statuses = await Promise.all(
      Array.from({ length: REQUESTS }, () => fetch(url).then((r) => r.status)),
    );
    expect(statuses).toEqual(Array.from({ length: REQUESTS }, () => 401));
    await api!.stop();
    expect(api!.child.exitCode).toBe(0);
    const lines = requestLines(api!.output(), '/api/v1/me');
    expect(lines).toHaveLength(REQUESTS);
    expect(new Set(lines.map((l) => l.reqId)).size).toBe(REQUESTS);
    expect(lines.every((l) => l.status === 401 && l.method === 'GET')).toBe(true);
  });
});

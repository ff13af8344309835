import { PgPool } from '../../src/platform/database/pg-pool';
import { startTestApp, bearer, type TestApp } from '../support/test-app';
import { eventually, ownerClient } from '../support/async';

describe('losing a database connection', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('survives a connection dropped while checked out between two queries, and serves the next request', async () => {
    const pool = t.app.get(PgPool);
    const owner = await ownerClient(t.database);
    let terminated = false;
    try {
      const attempt = pool.transaction(async (client) => {
        // Unhandled, that event would crash the process: someone must listen while checked out.
        expect(client.listenerCount('error')).toBeGreaterThan(0);
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        await owner.query('select pg_terminate_backend($1)', [rows[0].pid]);
        // The server closes the socket while this transaction waits on something else (the relay
        // waits on Redis like this): node-postgres emits 'error' on the checked-out client.
        terminated = true;
        await eventually(
          () =>
            Promise.resolve((client as unknown as { _queryable?: boolean })._queryable === false),
          5000,
          'the client to notice',
        );
      });
      await expect(attempt).rejects.toThrow();
    } finally {
      await owner.end();
    }
    expect(terminated).toBe(true);
    const member = await t.createMember(t.createOrg());
    await t.http().get('/api/v1/me').set(bearer(member)).expect(200);
  });
});

import { randomUUID } from 'node:crypto';
import { startTestApp, bearer, type Member, type TestApp } from '../support/test-app';

const expectProblem = (
  res: { status: number; headers: Record<string, string>; body: Record<string, unknown> },
  status: number,
  slug: string,
) => {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toEqual(
    expect.objectContaining({
      type: expect.stringMatching(new RegExp(`/${slug}$`)),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      instance: expect.any(String),
    }),
  );
};

describe('HTTP conventions', () => {
  let t: TestApp;
  let member: Member;

  beforeAll(async () => {
    t = await startTestApp({
      RATE_LIMIT_READS_PER_SECOND: '5',
      RATE_LIMIT_REDIS_TIMEOUT_MS: '2000',
      BODY_LIMIT_BYTES: '2048',
    });
    member = await t.createMember(t.createOrg());
  });
  afterAll(() => t.close());

  it('renders validation failures as problem details with errors[]', async () => {
    const res = await t
      .http()
      .patch('/api/v1/me/settings')
      .set(bearer(member))
      .send({ visibility: 'invisible' });
    expectProblem(res, 400, 'validation-failed');
    expect(res.body.errors).toEqual([
      { field: 'visibility', message: expect.stringContaining('visibility') },
    ]);
  });

  it('refuses unknown body fields (400) and writes nothing', async () => {
    const res = await t
      .http()
      .patch('/api/v1/me/settings')
      .set(bearer(member))
      .send({ readReceipts: false, isAdmin: true });
    expectProblem(res, 400, 'validation-failed');
    expect(res.body.errors).toEqual([
      { field: 'isAdmin', message: 'isAdmin is not a known field' },
    ]);
    const me = await t.http().get('/api/v1/me').set(bearer(member));
    expect(me.body.readReceipts).toBe(true);
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'])(
    'refuses the inherited name %s as an unknown body field, and writes nothing',
    async (name) => {
      // A member of its own: this suite's read limit is 5 a second.
      const member = await t.createMember(t.createOrg());
      const res = await t
        .http()
        .patch('/api/v1/me/settings')
        .set(bearer(member))
        .set('content-type', 'application/json')
        .send(`{"readReceipts":false,"${name}":{}}`);
      expectProblem(res, 400, 'validation-failed');
      expect(res.body.errors).toEqual([{ field: name, message: `${name} is not a known field` }]);
      const me = await t.http().get('/api/v1/me').set(bearer(member));
      expect(me.body.readReceipts).toBe(true);
    },
  );

  it.each(['constructor', 'toString'])(
    'refuses the inherited name %s as an unknown query parameter',
    async (name) => {
      const member = await t.createMember(t.createOrg());
      const res = await t.http().get(`/api/v1/messages/threads?${name}=1`).set(bearer(member));
      expectProblem(res, 400, 'validation-failed');
    },
  );

  it('refuses query parameters on a route that takes none', async () => {
    const member = await t.createMember(t.createOrg());
    const res = await t.http().get('/api/v1/messages/unread-count?limit=5').set(bearer(member));
    expectProblem(res, 400, 'validation-failed');
    expect(res.body.errors).toEqual([
      { field: 'limit', message: 'limit is not a known query parameter' },
    ]);
  });

  it('answers malformed JSON with 400', async () => {
    const res = await t
      .http()
      .patch('/api/v1/me/settings')
      .set(bearer(member))
      .set('content-type', 'application/json')
      .send('{"visibility":');
    expectProblem(res, 400, 'bad-request');
  });

  it('answers a body that is not JSON with 415', async () => {
    const res = await t
      .http()
      .patch('/api/v1/me/settings')
      .set(bearer(member))
      .set('content-type', 'text/plain')
      .send('hello');
    expectProblem(res, 415, 'unsupported-media-type');
  });

  it('answers a body over the size limit with 413', async () => {
    const res = await t
      .http()
      .patch('/api/v1/me/settings')
      .set(bearer(member))
      .send({ visibility: 'x'.repeat(4096) });
    expectProblem(res, 413, 'payload-too-large');
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await t.http().get('/api/v1/nope').set(bearer(member));
    expectProblem(res, 404, 'not-found');
    const anonymous = await t.http().get('/nothing-here');
    expect(anonymous.status).toBe(404);
  });

  it('answers a malformed uuid path parameter with 400 naming it', async () => {
    const res = await t
      .http()
      .delete(`/api/v1/admin/orgs/not-a-uuid/members/${randomUUID()}`)
      .set('authorization', `Bearer ${t.serviceToken()}`);
    expectProblem(res, 400, 'validation-failed');
  });

  it('echoes x-request-id, or makes one up', async () => {
    const given = await t.http().get('/health/live').set('x-request-id', 'trace-123');
    expect(given.headers['x-request-id']).toBe('trace-123');
    const made = await t.http().get('/health/live');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const junk = await t.http().get('/health/live').set('x-request-id', 'has spaces and <html>');
    expect(junk.headers['x-request-id']).not.toBe('has spaces and <html>');
  });

  it('sends security headers: strict ones on the API, page ones on the docs', async () => {
    const res = await t.http().get('/api/v1/me').set(bearer(member));
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none';frame-ancestors 'none'",
    );
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    const problem = await t.http().get('/api/v1/me');
    expect(problem.headers['x-content-type-options']).toBe('nosniff');
    const docs = await t.http().get('/docs');
    expect(docs.headers['content-security-policy']).toContain("default-src 'self'");
    expect(docs.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('rate-limits per user with 429 and Retry-After', async () => {
    const other = await t.createMember(t.createOrg());
    // At once: one-second windows, and a busy machine could spread sequential requests over two.
    // 12 requests allow at most 10 through while they fall in two windows; on a machine so busy
    // that they spread over more (the full suite in parallel), the burst is sent again, up to
    // three times. The server listens first, so that supertest does not start (and close) one per
    // request.
    const server = t.app.getHttpServer();
    if (!server.listening)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    let limited: Awaited<ReturnType<ReturnType<TestApp['http']>['get']>> | undefined;
    for (let burst = 0; burst < 3 && !limited; burst++) {
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => t.http().get('/api/v1/me').set(bearer(other))),
      );
      const statuses = answers.map((res) => res.status);
      // Only 200s and 429s, and never all refused: the limit lets the first ones through.
      expect({
        statuses,
        ok: statuses.every((s) => s === 200 || s === 429) && statuses.includes(200),
      }).toEqual({ statuses, ok: true });
      limited = answers.find((res) => res.status === 429);
      if (!limited) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(limited).toBeDefined();
    expectProblem(limited!, 429, 'rate-limited');
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another user is not affected.
    await t.http().get('/api/v1/me').set(bearer(member)).expect(200);
  });
});

describe('CORS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CORS_ORIGINS: 'https://app.example' });
  });
  afterAll(() => t.close());

  it('allows configured origins only', async () => {
    const ok = await t
      .http()
      .options('/api/v1/me')
      .set('origin', 'https://app.example')
      .set('access-control-request-method', 'GET');
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await t
      .http()
      .options('/api/v1/me')
      .set('origin', 'https://evil.example')
      .set('access-control-request-method', 'GET');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets an allowed origin send If-None-Match and read the ETag (conditional GETs)', async () => {
    const member = await t.createMember(t.createOrg());
    const preflight = await t
      .http()
      .options('/api/v1/me')
      .set('origin', 'https://app.example')
      .set('access-control-request-method', 'GET')
      .set('access-control-request-headers', 'authorization, if-none-match');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/\bif-none-match\b/);
    const res = await t
      .http()
      .get('/api/v1/me')
      .set('origin', 'https://app.example')
      .set(bearer(member));
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBeDefined();
    expect(res.headers['access-control-expose-headers']).toMatch(/\betag\b/);
  });

  it('answers an OPTIONS request without preflight headers without a plain-text error', async () => {
    const res = await t.http().options('/api/v1/me');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocument } from '../../src/platform/http/swagger';
import { startTestApp, type TestApp } from '../support/test-app';

describe('operations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers liveness and readiness without a token', async () => {
    await t.http().get('/health/live').expect(200, { status: 'ok' });
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.database.status).toBe('up');
    expect(ready.body.info.redis).toEqual({ status: 'up', required: false });
  });

  it('serves the OpenAPI document with the bearer scheme and every route', async () => {
    const res = await t.http().get('/docs-json').expect(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(res.body.components.securitySchemes.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    for (const path of [
      '/api/v1/me',
      '/api/v1/me/settings',
      '/api/v1/admin/orgs/{orgId}/members/{userId}',
      '/health/ready',
    ]) {
      expect(Object.keys(res.body.paths)).toContain(path);
    }
    const ui = await t.http().get('/docs').expect(200);
    expect(ui.text).toContain('swagger-ui');
  });

  it('keeps the committed openapi.json in sync (run npm run openapi)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '../../openapi.json'), 'utf8'));
    const current = JSON.parse(JSON.stringify(buildOpenApiDocument(t.app)));
    expect(current).toEqual(committed);
  });

  it('guards the queue dashboard with operator credentials', async () => {
    const anonymous = await t.http().get('/admin/queues');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic/);
    const wrong = await t.http().get('/admin/queues').auth('operator', 'wrong');
    expect(wrong.status).toBe(401);
    const ok = await t
      .http()
      .get('/admin/queues')
      .auth(t.config.operator.user, t.config.operator.password);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('<html');
    const api = await t
      .http()
      .get('/admin/queues/api/queues')
      .auth(t.config.operator.user, t.config.operator.password);
    expect(api.status).toBe(200);
  });
});

describe('operator sign-in to the queue dashboard', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ OPERATOR_AUTH_MAX_FAILURES: '3' });
  });
  afterAll(() => t.close());

  const basic = (credentials: string, scheme = 'Basic') =>
    `${scheme} ${Buffer.from(credentials).toString('base64')}`;

  it('accepts the Basic scheme in any case', async () => {
    const { user, password } = t.config.operator;
    for (const scheme of ['basic', 'BASIC']) {
      const res = await t
        .http()
        .get('/admin/queues')
        .set('authorization', basic(`${user}:${password}`, scheme));
      expect({ scheme, status: res.status }).toEqual({ scheme, status: 200 });
    }
  });

  it('throttles failed attempts per client address: 429 with Retry-After, even for the right password', async () => {
    const { user, password } = t.config.operator;
    for (let i = 0; i < 3; i++) {
      const res = await t
        .http()
        .get('/admin/queues')
        .set('authorization', basic(`${user}:wrong-${i}`));
      expect(res.status).toBe(401);
    }
    const throttled = await t
      .http()
      .get('/admin/queues')
      .set('authorization', basic(`${user}:${password}`));
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    expect(throttled.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(throttled.body).toMatchObject({
      status: 429,
      type: expect.stringMatching(/rate-limited$/),
    });
  });
});

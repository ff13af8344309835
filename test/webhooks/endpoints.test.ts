import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';

import {
  WEBHOOK_RESOLVER,
  type ResolverHolder,
} from '../../src/webhooks/webhook-dispatcher.service';
import { encryptSecret, generateSecret } from '../../src/webhooks/secrets';
import { startTestApp, bearer, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import { eventually, ownerClient } from '../support/async';
import { WebhookReceiver } from '../support/webhook-receiver';

describe('webhook endpoint management (org admins only)', () => {
  let t: TestApp;
  let org: string;
  let admin: Member;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'false',
    });
    org = t.createOrg();
    admin = await t.createMember(org, { role: 'org_admin' });
  });
  afterAll(() => t.close());

  const create = (who: Member, body: Record<string, unknown>) =>
    t.http().post('/api/v1/webhooks/endpoints').set(bearer(who)).send(body);

  it('creates, shows the secret once, lists, updates and deletes an endpoint', async () => {
    const created = await create(admin, {
      url: 'https://93.184.216.34/hooks',
      events: ['message.created'],
      description: 'CRM',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: 'https://93.184.216.34/hooks',
      events: ['message.created'],
      description: 'CRM',
      includeMessageBody: false,
      enabled: true,
      disabledReason: null,
      secret: expect.stringMatching(/^whsec_/),
    });
    const id = created.body.id as string;
    const got = await t.http().get(`/api/v1/webhooks/endpoints/${id}`).set(bearer(admin));
    expect(got.body.secret).toBeUndefined();
    const list = await t.http().get('/api/v1/webhooks/endpoints').set(bearer(admin));
    expect(list.body.data.map((e: { id: string }) => e.id)).toContain(id);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    const patched = await t
      .http()
      .patch(`/api/v1/webhooks/endpoints/${id}`)
      .set(bearer(admin))
      .send({ enabled: false, events: ['message.read'] });
    expect(patched.body).toMatchObject({
      enabled: false,
      disabledReason: 'manual',
      events: ['message.read'],
    });
    await t.http().delete(`/api/v1/webhooks/endpoints/${id}`).set(bearer(admin)).expect(204);
    await t.http().get(`/api/v1/webhooks/endpoints/${id}`).set(bearer(admin)).expect(404);
  });

  it('stores the secret encrypted', async () => {
    const created = await create(admin, {
      url: 'https://93.184.216.34/x',
      events: ['message.read'],
    });
    const db = await ownerClient(t.database);
    try {
      const { rows } = await db.query(
        `select secret_ciphertext from webhook_endpoints where id = $1`,
        [created.body.id],
      );
      expect(rows[0].secret_ciphertext).not.toContain((created.body.secret as string).slice(6));
    } finally {
      await db.end();
    }
  });

  it('answers 403 to residents and managers on every management route', async () => {
    const resident = await t.createMember(org);
    const manager = await t.createMember(org, { role: 'manager' });
    const id = randomUUID();
    for (const who of [resident, manager]) {
      for (const [method, path] of [
        ['post', '/api/v1/webhooks/endpoints'],
        ['get', '/api/v1/webhooks/endpoints'],
        ['get', `/api/v1/webhooks/endpoints/${id}`],
        ['patch', `/api/v1/webhooks/endpoints/${id}`],
        ['delete', `/api/v1/webhooks/endpoints/${id}`],
        ['post', `/api/v1/webhooks/endpoints/${id}/rotate-secret`],
        ['get', `/api/v1/webhooks/endpoints/${id}/deliveries`],
        ['get', `/api/v1/webhooks/deliveries/${id}/attempts`],
        ['post', `/api/v1/webhooks/deliveries/${id}/retry`],
      ] as const) {
        const res = await t.http()[method](path).set(bearer(who)).send({});
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
      }
    }
  });

  it('keeps another org’s endpoints out of reach (404 like an unknown id)', async () => {
    const created = await create(admin, {
      url: 'https://93.184.216.34/y',
      events: ['message.read'],
    });
    const otherAdmin = await t.createMember(t.createOrg(), { role: 'org_admin' });
    const foreign = await t
      .http()
      .get(`/api/v1/webhooks/endpoints/${created.body.id}`)
      .set(bearer(otherAdmin));
    const unknown = await t
      .http()
      .get(`/api/v1/webhooks/endpoints/${randomUUID()}`)
      .set(bearer(otherAdmin));
    expect(foreign.status).toBe(404);
    const { instance: _a, ...f } = foreign.body;
    const { instance: _b, ...u } = unknown.body;
    expect(f).toEqual(u);
  });

  it('validates events and fields', async () => {
    expect((await create(admin, { url: 'https://93.184.216.34/z', events: [] })).status).toBe(400);
    expect(
      (await create(admin, { url: 'https://93.184.216.34/z', events: ['message.exploded'] }))
        .status,
    ).toBe(400);
    expect(
      (
        await create(admin, {
          url: 'https://93.184.216.34/z',
          events: ['message.read'],
          secret: 'mine',
        })
      ).status,
    ).toBe(400);
    // A wrong type is named as such.
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 123, events: ['message.read'] }, 'url must be a string'],
      [{ url: 'https://93.184.216.34/z', events: 'message.read' }, 'events must be an array'],
      [{ url: 'https://93.184.216.34/z' }, 'events must be an array'],
    ];
    for (const [body, message] of cases) {
      const res = await create(admin, body);
      expect([res.status, res.body.errors?.[0]?.message]).toEqual([400, message]);
    }
  });

  it('clears a description with null', async () => {
    const created = await create(admin, {
      url: 'https://93.184.216.34/z',
      events: ['message.read'],
      description: 'note',
    });
    const id = created.body.id as string;
    const cleared = await t
      .http()
      .patch(`/api/v1/webhooks/endpoints/${id}`)
      .set(bearer(admin))
      .send({ description: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.description).toBeNull();
  });

  it.each([
    'http://93.184.216.34/hook',
    'https://127.0.0.1/hook',
    'https://localhost/hook',
    'https://10.0.0.8/hook',
    'https://172.20.1.1/hook',
    'https://192.168.0.10/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://100.64.1.1/hook',
    'https://[::1]/hook',
    'https://[fd00::1]/hook',
    'https://[fe80::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://0x7f000001/hook',
    'https://2130706433/hook',
    'https://0177.0.0.1/hook',
    'https://127.1/hook',
  ])('refuses to register %s with 400', async (url) => {
    const res = await create(admin, { url, events: ['message.created'] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'url', message: expect.any(String) }]);
  });
});

describe('SSRF at delivery time (DNS rebinding)', () => {
  let t: TestApp;
  let db: Client;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await startTestApp({
      WORKER_ENABLED: 'true',
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'false',
      WEBHOOK_RETRY_SCHEDULE: '0.05',
    });
    db = await ownerClient(t.database);
    receiver = await new WebhookReceiver().start();
  });
  afterAll(async () => {
    await receiver.stop();
    await db.end();
    await t.close();
  });

  it('refuses to connect when a public-looking hostname resolves to 127.0.0.1 at delivery time', async () => {
    const port = new URL(receiver.url()).port;
    const holder = t.app.get<ResolverHolder>(WEBHOOK_RESOLVER);
    holder.resolve = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    const org = t.createOrg();
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    // Registered while the name pointed somewhere public; it now rebinds to loopback.
    const endpointId = randomUUID();
    await db.query('begin');
    await db.query(`select set_config('app.org_id', $1, true)`, [org]);
    await db.query(
      `insert into webhook_endpoints (id, org_id, url, events, secret_ciphertext, created_by)
       values ($1, $2, $3, '{message.created}', $4, $5)`,
      [
        endpointId,
        org,
        `https://rebind.example:${port}/hook`,
        encryptSecret(generateSecret(), t.config.webhooks.encryptionKey),
        a.userId,
      ],
    );
    await db.query('select rm_refresh_webhook_routes()');
    await db.query('commit');

    await t
      .http()
      .post('/api/v1/messages/threads')
      .set(bearer(a))
      .send({ recipientId: b.userId, body: 'hi' })
      .expect(201);
    const delivery = await eventually(
      async () => {
        const { rows } = await db.query(
          `select status, last_error from webhook_deliveries where endpoint_id = $1`,
          [endpointId],
        );
        return rows[0]?.status === 'exhausted' ? rows[0] : undefined;
      },
      10_000,
      'the delivery to give up',
    );
    expect(delivery.last_error).toMatch(/internal address/);
    expect(receiver.received).toHaveLength(0);
  });
});

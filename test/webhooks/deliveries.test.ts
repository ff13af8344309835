import type { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { startTestApp, bearer, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import { drainOutbox, eventually, ownerClient } from '../support/async';
import { WebhookReceiver } from '../support/webhook-receiver';

describe('webhook deliveries (local receivers, private URLs allowed)', () => {
  let t: TestApp;
  let db: Client;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
      WORKER_ENABLED: 'true',
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '0.1,0.1,0.1',
      WEBHOOK_TIMEOUT_MS: '500',
      OUTBOX_POLL_MS: '20',
    });
    db = await ownerClient(t.database);
  });
  beforeEach(async () => {
    receiver = await new WebhookReceiver().start();
  });
  afterEach(() => receiver.stop());
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  const setup = async (events = ['message.created'], extra: Record<string, unknown> = {}) => {
    const org = t.createOrg();
    const admin = await t.createMember(org, { role: 'org_admin' });
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    const created = await t
      .http()
      .post('/api/v1/webhooks/endpoints')
      .set(bearer(admin))
      .send({ url: receiver.url(), events, ...extra });
    expect(created.status).toBe(201);
    return { org, admin, a, b, endpoint: created.body as { id: string; secret: string } };
  };
  const startThread = async (from: Member, to: Member, body?: string) => {
    const res = await t
      .http()
      .post('/api/v1/messages/threads')
      .set(bearer(from))
      .send({ recipientId: to.userId, ...(body ? { body } : {}) });
    return res.body as { thread: { id: string }; message?: { id: string; seq: number } };
  };
  const deliveries = async (admin: Member, endpointId: string, query = '') =>
    (
      await t
        .http()
        .get(`/api/v1/webhooks/endpoints/${endpointId}/deliveries${query}`)
        .set(bearer(admin))
    ).body.data as any[];
  const attempts = async (admin: Member, deliveryId: string) =>
    (await t.http().get(`/api/v1/webhooks/deliveries/${deliveryId}/attempts`).set(bearer(admin)))
      .body.data as any[];
  const settled = (admin: Member, endpointId: string, n = 1) =>
    eventually(
      async () => {
        const list = await deliveries(admin, endpointId);
        return list.length >= n &&
          list.every((d) => d.status === 'succeeded' || d.status === 'exhausted')
          ? list
          : undefined;
      },
      15_000,
      'deliveries to settle',
    );

  it('delivers a signed message.created without the text, verifiable with the secret', async () => {
    const { a, b, admin, endpoint, org } = await setup();
    const { thread, message } = await startThread(a, b, 'private words');
    await settled(admin, endpoint.id);
    expect(receiver.received).toHaveLength(1);
    const [req] = receiver.received;
    const payload = new Webhook(endpoint.secret).verify(
      req.body,
      req.headers as Record<string, string>,
    );
    expect(payload).toEqual({
      type: 'message.created',
      timestamp: expect.any(String),
      data: { orgId: org, threadId: thread.id, messageId: message!.id, seq: 1, senderId: a.userId },
    });
    expect(req.body).not.toContain('private words');
    expect(req.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it('includes the text only when the endpoint asks for it', async () => {
    const { a, b, admin, endpoint } = await setup(['message.created'], {
      includeMessageBody: true,
    });
    await startThread(a, b, 'shared words');
    await settled(admin, endpoint.id);
    expect(JSON.parse(receiver.received[0].body).data.body).toBe('shared words');
  });

  it("takes a deleted message's text out of its deliveries: stored payloads, later and manual attempts", async () => {
    // Every attempt fails, so the delivery is exhausted with the text stored, then retried by hand.
    receiver.reply = () => ({ status: 500, body: 'down' });
    const { a, b, admin, endpoint, org } = await setup(['message.created'], {
      includeMessageBody: true,
    });
    const { thread, message } = await startThread(a, b, 'words to take back');
    const [delivery] = await settled(admin, endpoint.id);
    expect(delivery.status).toBe('exhausted');
    expect(receiver.received.at(-1)!.body).toContain('words to take back');
    const stored = async () =>
      (
        await db.query<{ payload: string }>(
          'select payload from webhook_deliveries where id = $1',
          [delivery.id],
        )
      ).rows[0].payload;
    expect(await stored()).toContain('words to take back');

    const deleted = await t
      .http()
      .delete(`/api/v1/messages/threads/${thread.id}/messages/${message!.id}`)
      .set(bearer(a));
    expect(deleted.status).toBe(204);
    // The stored payload keeps its shape and bytes, without the text.
    expect(JSON.parse(await stored())).toEqual({
      type: 'message.created',
      timestamp: expect.any(String),
      data: { orgId: org, threadId: thread.id, messageId: message!.id, seq: 1, senderId: a.userId },
    });
    expect(await stored()).not.toContain('words to take back');

    receiver.reply = () => ({ status: 200, body: 'ok' });
    const before = receiver.received.length;
    const retried = await t
      .http()
      .post(`/api/v1/webhooks/deliveries/${delivery.id}/retry`)
      .set(bearer(admin));
    expect(retried.status).toBe(202);
    await eventually(
      () => Promise.resolve(receiver.received.length > before ? true : undefined),
      10_000,
      'the manual retry',
    );
    const resent = receiver.received.at(-1)!;
    expect(resent.body).not.toContain('words to take back');
    expect(
      new Webhook(endpoint.secret).verify(resent.body, resent.headers as Record<string, string>),
    ).toMatchObject({
      data: { messageId: message!.id },
    });
    expect(resent.headers['webhook-id']).toBe(receiver.received[0].headers['webhook-id']);
  });

  it('keeps no text for a message deleted while its deliveries are being made', async () => {
    const { a, b, admin, endpoint } = await setup(['message.created', 'message.deleted'], {
      includeMessageBody: true,
    });
    // Deleted at once: whether the fan-out renders before or after the delete (it share-locks the
    // message, so one waits for the other), no stored payload keeps the text.
    const { thread, message } = await startThread(a, b, 'gone before rendering');
    await t
      .http()
      .delete(`/api/v1/messages/threads/${thread.id}/messages/${message!.id}`)
      .set(bearer(a));
    await settled(admin, endpoint.id, 2);
    await drainOutbox(db);
    const { rows } = await db.query<{ payload: string }>(
      'select payload from webhook_deliveries where endpoint_id = $1',
      [endpoint.id],
    );
    expect(rows.length).toBe(2);
    for (const row of rows) expect(row.payload).not.toContain('gone before rendering');
  });

  it('retries with the same webhook-id and a fresh signature: fail, fail, succeed', async () => {
    receiver.reply = (_req, i) =>
      i < 2 ? { status: 500, body: 'nope' } : { status: 200, body: 'ok' };
    const { a, b, admin, endpoint } = await setup();
    await startThread(a, b, 'hello');
    const [delivery] = await settled(admin, endpoint.id);
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: 3,
      lastStatusCode: 200,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of receiver.received) {
      expect(() =>
        new Webhook(endpoint.secret).verify(r.body, r.headers as Record<string, string>),
      ).not.toThrow();
    }
    const log = await attempts(admin, delivery.id);
    expect(log.map((l) => [l.attempt, l.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(log[0].responseBody).toBe('nope');
  });

  it('marks a delivery exhausted when every attempt fails, and can re-deliver it by hand with the same webhook-id', async () => {
    receiver.reply = () => ({ status: 500 });
    const { a, b, admin, endpoint } = await setup();
    await startThread(a, b, 'hello');
    const [delivery] = await settled(admin, endpoint.id);
    expect(delivery).toMatchObject({ status: 'exhausted', attempts: 4, lastStatusCode: 500 });
    expect((await deliveries(admin, endpoint.id, '?status=exhausted')).map((d) => d.id)).toEqual([
      delivery.id,
    ]);
    expect(await deliveries(admin, endpoint.id, '?status=succeeded')).toEqual([]);

    receiver.reply = () => ({ status: 200 });
    const retried = await t
      .http()
      .post(`/api/v1/webhooks/deliveries/${delivery.id}/retry`)
      .set(bearer(admin));
    expect(retried.status).toBe(202);
    // "pending" means never attempted: this one was, and its last attempt failed.
    expect(retried.body).toMatchObject({ status: 'failed', attempts: 4, lastStatusCode: 500 });
    expect(retried.body.nextAttemptAt).not.toBeNull();
    const [after] = await eventually(
      async () => {
        const list = await deliveries(admin, endpoint.id);
        return list[0].status === 'succeeded' ? list : undefined;
      },
      10_000,
      'the manual retry',
    );
    expect(after.attempts).toBe(5);
    expect(after.nextAttemptAt).toBeNull();

    // A succeeded delivery can be sent again too: it stays succeeded while the attempt is due.
    const again = await t
      .http()
      .post(`/api/v1/webhooks/deliveries/${delivery.id}/retry`)
      .set(bearer(admin));
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ status: 'succeeded', attempts: 5 });
    expect(again.body.nextAttemptAt).not.toBeNull();
    const [redelivered] = await eventually(
      async () => {
        const list = await deliveries(admin, endpoint.id);
        return list[0].attempts === 6 && list[0].nextAttemptAt === null ? list : undefined;
      },
      10_000,
      'the redelivery',
    );
    expect(redelivered.status).toBe('succeeded');
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(receiver.received).toHaveLength(6);
  });

  it('refuses a manual retry while an attempt is under way (409), so no attempt goes unlogged', async () => {
    receiver.reply = (_req, i) => (i === 0 ? { status: 410, delayMs: 400 } : { status: 200 });
    const { a, b, admin, endpoint } = await setup();
    await startThread(a, b, 'hello');
    const [delivery] = await eventually(
      async () => {
        const list = await deliveries(admin, endpoint.id);
        return list.length && receiver.received.length ? list : undefined;
      },
      10_000,
      'the first attempt to start',
    );
    const during = await t
      .http()
      .post(`/api/v1/webhooks/deliveries/${delivery.id}/retry`)
      .set(bearer(admin));
    expect(during.status).toBe(409);
    expect(during.body.type).toMatch(/\/delivery-in-progress$/);
    // The slow 410 is logged and disables the endpoint, as without the retry.
    await settled(admin, endpoint.id);
    expect((await attempts(admin, delivery.id)).map((l) => l.statusCode)).toEqual([410]);
    const got = await t.http().get(`/api/v1/webhooks/endpoints/${endpoint.id}`).set(bearer(admin));
    expect(got.body).toMatchObject({ enabled: false, disabledReason: 'gone' });
    expect(receiver.received).toHaveLength(1);
  });

  it('disables the endpoint at once on 410 and tells the org admins', async () => {
    receiver.reply = () => ({ status: 410 });
    const { a, b, admin, endpoint } = await setup();
    await startThread(a, b, 'hello');
    await settled(admin, endpoint.id);
    expect(receiver.received).toHaveLength(1);
    const got = await t.http().get(`/api/v1/webhooks/endpoints/${endpoint.id}`).set(bearer(admin));
    expect(got.body).toMatchObject({ enabled: false, disabledReason: 'gone' });
    const inbox = await t.http().get('/api/v1/notifications').set(bearer(admin));
    expect(inbox.body.data).toEqual([
      expect.objectContaining({
        type: 'webhook.disabled',
        endpointId: endpoint.id,
        threadId: null,
        actor: null,
      }),
    ]);
    // Nothing more goes to a disabled endpoint.
    await startThread(b, a, 'again');
    await drainOutbox(db);
    expect(receiver.received).toHaveLength(1);
  });

  it('disables an endpoint that keeps failing past WEBHOOK_DISABLE_AFTER_HOURS and tells the admins', async () => {
    receiver.reply = () => ({ status: 503 });
    const { a, b, admin, endpoint } = await setup();
    // It has been failing for six days already (the default limit is five).
    await db.query(
      `update webhook_endpoints set failing_since = now() - interval '6 days' where id = $1`,
      [endpoint.id],
    );
    await startThread(a, b, 'hello');
    await settled(admin, endpoint.id);
    const got = await t.http().get(`/api/v1/webhooks/endpoints/${endpoint.id}`).set(bearer(admin));
    expect(got.body).toMatchObject({ enabled: false, disabledReason: 'failing' });
    const inbox = await t.http().get('/api/v1/notifications').set(bearer(admin));
    expect(inbox.body.data.map((n: { type: string }) => n.type)).toEqual(['webhook.disabled']);
    const retry = await t
      .http()
      .post(`/api/v1/webhooks/deliveries/${(await deliveries(admin, endpoint.id))[0].id}/retry`)
      .set(bearer(admin));
    expect(retry.status).toBe(409);
    expect(retry.body.type).toMatch(/endpoint-disabled$/);
  });

  it('honours Retry-After on 429', async () => {
    receiver.reply = (_r, i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 };
    const { a, b, admin, endpoint } = await setup();
    await startThread(a, b, 'hello');
    await settled(admin, endpoint.id);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1].at - receiver.received[0].at).toBeGreaterThanOrEqual(950);
  });

  it('does not follow redirects (a failure), times out slow receivers, truncates huge answers', async () => {
    const target = await new WebhookReceiver().start();
    try {
      receiver.reply = (r) =>
        r.path === '/slow'
          ? { status: 200, delayMs: 2000 }
          : r.path === '/huge'
            ? { status: 500, body: 'x'.repeat(100_000) }
            : { status: 302, headers: { location: target.url() } };
      const { a, b, admin, endpoint } = await setup();
      const slow = await t
        .http()
        .post('/api/v1/webhooks/endpoints')
        .set(bearer(admin))
        .send({ url: receiver.url('/slow'), events: ['message.created'] });
      const huge = await t
        .http()
        .post('/api/v1/webhooks/endpoints')
        .set(bearer(admin))
        .send({ url: receiver.url('/huge'), events: ['message.created'] });
      await startThread(a, b, 'hello');
      const [redirected] = await settled(admin, endpoint.id);
      expect(redirected).toMatchObject({ status: 'exhausted', lastStatusCode: 302 });
      expect(redirected.lastError).toMatch(/redirect/);
      expect(target.received).toHaveLength(0);
      const [timedOut] = await settled(admin, slow.body.id);
      expect(timedOut.lastError).toMatch(/timed out/);
      expect(timedOut.lastStatusCode).toBeNull();
      const [big] = await settled(admin, huge.body.id);
      const log = await attempts(admin, big.id);
      expect(log[0].responseBody.length).toBeLessThanOrEqual(4096);
      expect(log[0].responseBody.length).toBeGreaterThan(1000);
    } finally {
      await target.stop();
    }
  });

  it('delivers thread.created, message.read and message.deleted with their ids', async () => {
    const { a, b, admin, endpoint, org } = await setup([
      'thread.created',
      'message.read',
      'message.deleted',
    ]);
    const { thread, message } = await startThread(a, b, 'x');
    await t
      .http()
      .post(`/api/v1/messages/threads/${thread.id}/read`)
      .set(bearer(b))
      .send({})
      .expect(200);
    await t
      .http()
      .delete(`/api/v1/messages/threads/${thread.id}/messages/${message!.id}`)
      .set(bearer(a))
      .expect(204);
    await settled(admin, endpoint.id, 3);
    const bodies = receiver.received
      .map((r) => JSON.parse(r.body))
      .sort((x, y) => x.type.localeCompare(y.type));
    expect(bodies.map((p) => p.type)).toEqual([
      'message.deleted',
      'message.read',
      'thread.created',
    ]);
    expect(bodies[0].data).toEqual({
      orgId: org,
      threadId: thread.id,
      messageId: message!.id,
      seq: 1,
      senderId: a.userId,
    });
    expect(bodies[1].data).toEqual({
      orgId: org,
      threadId: thread.id,
      messageId: message!.id,
      seq: 1,
      readerId: b.userId,
    });
    expect(bodies[2].data).toEqual({ orgId: org, threadId: thread.id, senderId: a.userId });
  });

  it('sends message.read when a reply moves the replier’s read pointer', async () => {
    const { a, b, admin, endpoint, org } = await setup(['message.read']);
    const { thread, message } = await startThread(a, b, 'question');
    // Bob answers without calling …/read first: his reply reads Alice's message.
    await t
      .http()
      .post(`/api/v1/messages/threads/${thread.id}/messages`)
      .set(bearer(b))
      .send({ body: 'answer' })
      .expect(201);
    await settled(admin, endpoint.id);
    expect(receiver.received.map((r) => JSON.parse(r.body))).toEqual([
      {
        type: 'message.read',
        timestamp: expect.any(String),
        data: {
          orgId: org,
          threadId: thread.id,
          messageId: message!.id,
          seq: 1,
          readerId: b.userId,
        },
      },
    ]);
  });

  it('sends no message.read for the implicit read of a withheld send', async () => {
    const { a, b, admin, endpoint } = await setup(['message.read', 'message.created']);
    const { thread } = await startThread(b, a, 'from b');
    await settled(admin, endpoint.id);
    receiver.received.length = 0;
    await t.http().post(`/api/v1/messages/users/${a.userId}/block`).set(bearer(b)).expect(201);
    // a has not read b's message; a's (withheld) reply reads it, but no event may mark the moment.
    await t
      .http()
      .post(`/api/v1/messages/threads/${thread.id}/messages`)
      .set(bearer(a))
      .send({ body: 'withheld reply' })
      .expect(201);
    await drainOutbox(db);
    expect((await deliveries(admin, endpoint.id)).map((d) => d.eventType)).toEqual([
      'message.created',
    ]);
    expect(receiver.received).toHaveLength(0);
  });

  it('sends no thread.created for a thread started with someone who blocks the starter', async () => {
    const { a, admin, endpoint, org } = await setup(['thread.created', 'message.created']);
    const manager = await t.createMember(org, { role: 'manager' });
    await t
      .http()
      .post(`/api/v1/messages/users/${manager.userId}/block`)
      .set(bearer(a))
      .expect(201);
    // A manager may start it (201), but its first message is withheld: the thread is silent.
    const started = await t
      .http()
      .post('/api/v1/messages/threads')
      .set(bearer(manager))
      .send({ recipientId: a.userId, body: 'withheld' });
    expect(started.status).toBe(201);
    await drainOutbox(db);
    expect(await deliveries(admin, endpoint.id)).toEqual([]);
    expect(receiver.received).toHaveLength(0);
  });

  it('sends nothing for a withheld message, and nothing to another org’s endpoints', async () => {
    const first = await setup();
    const other = await new WebhookReceiver().start();
    try {
      const otherOrg = t.createOrg();
      const otherAdmin = await t.createMember(otherOrg, { role: 'org_admin' });
      await t
        .http()
        .post('/api/v1/webhooks/endpoints')
        .set(bearer(otherAdmin))
        .send({ url: other.url(), events: ['message.created'] })
        .expect(201);
      const { thread } = await startThread(first.a, first.b, 'visible');
      await t
        .http()
        .post(`/api/v1/messages/users/${first.a.userId}/block`)
        .set(bearer(first.b))
        .expect(201);
      await t
        .http()
        .post(`/api/v1/messages/threads/${thread.id}/messages`)
        .set(bearer(first.a))
        .send({ body: 'withheld' })
        .expect(201);
      await drainOutbox(db);
      await settled(first.admin, first.endpoint.id);
      expect(receiver.received).toHaveLength(1);
      expect(other.received).toHaveLength(0);
    } finally {
      await other.stop();
    }
  });

  it('signs with both secrets during a rotation', async () => {
    const { a, b, admin, endpoint } = await setup();
    const rotated = await t
      .http()
      .post(`/api/v1/webhooks/endpoints/${endpoint.id}/rotate-secret`)
      .set(bearer(admin));
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(
      23 * 3600_000,
    );
    // The overlap stays visible on the endpoint itself (the secrets do not).
    const viewed = await t
      .http()
      .get(`/api/v1/webhooks/endpoints/${endpoint.id}`)
      .set(bearer(admin));
    expect(viewed.body.previousSecretExpiresAt).toBe(rotated.body.previousSecretExpiresAt);
    expect(viewed.body.secret).toBeUndefined();
    await startThread(a, b, 'hello');
    await settled(admin, endpoint.id);
    const [req] = receiver.received;
    expect((req.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    for (const secret of [endpoint.secret, rotated.body.secret as string]) {
      expect(() =>
        new Webhook(secret).verify(req.body, req.headers as Record<string, string>),
      ).not.toThrow();
    }
  });
});

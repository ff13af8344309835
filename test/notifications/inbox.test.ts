import type { Client } from 'pg';
import { startTestApp, bearer, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import { drainOutbox, ownerClient } from '../support/async';

describe('in-app notifications (worker in-process)', () => {
  let t: TestApp;
  let db: Client;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({ ...UNTHROTTLED, WORKER_ENABLED: 'true' });
    db = await ownerClient(t.database);
    org = t.createOrg();
  });
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  const inbox = async (m: Member, query = '') => {
    const res = await t.http().get(`/api/v1/notifications${query}`).set(bearer(m));
    expect(res.status).toBe(200);
    return res.body as { data: any[]; nextCursor: string | null };
  };
  const start = async (from: Member, to: Member, body?: string) => {
    const res = await t
      .http()
      .post('/api/v1/messages/threads')
      .set(bearer(from))
      .send({ recipientId: to.userId, ...(body ? { body } : {}) });
    expect([200, 201]).toContain(res.status);
    return res.body.thread.id as string;
  };
  const send = async (from: Member, threadId: string, body: string) => {
    const res = await t
      .http()
      .post(`/api/v1/messages/threads/${threadId}/messages`)
      .set(bearer(from))
      .send({ body });
    expect(res.status).toBe(201);
    return res.body;
  };

  it('notifies a new thread once (thread.started), also when it carries a first message', async () => {
    const a = await t.createMember(org, { displayName: 'Ann' });
    const b = await t.createMember(org);
    const c = await t.createMember(org);
    const empty = await start(a, b);
    const withBody = await start(a, c, 'hello');
    await drainOutbox(db);
    const forB = await inbox(b);
    expect(forB.data).toEqual([
      expect.objectContaining({
        type: 'thread.started',
        threadId: empty,
        actor: { userId: a.userId, displayName: 'Ann', role: 'resident' },
        count: 1,
        readAt: null,
      }),
    ]);
    const forC = await inbox(c);
    expect(forC.data.map((n) => [n.type, n.threadId])).toEqual([['thread.started', withBody]]);
    expect((await inbox(a)).data).toEqual([]);
  });

  it('produces exactly one notification per message for the recipient, none for the sender', async () => {
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    const thread = await start(a, b);
    await drainOutbox(db);
    await t.http().post('/api/v1/notifications/read-all').set(bearer(b)).expect(200);
    await send(a, thread, 'one');
    await drainOutbox(db);
    const unread = (await inbox(b, '?unreadOnly=true')).data;
    expect(unread).toHaveLength(1);
    expect(unread[0]).toMatchObject({ type: 'message.received', threadId: thread, count: 1 });
    // Exactly the SPEC's shape: no extra keys.
    expect(Object.keys(unread[0]).sort()).toEqual(
      ['id', 'type', 'threadId', 'actor', 'count', 'createdAt', 'updatedAt', 'readAt'].sort(),
    );
    expect(JSON.stringify(unread[0])).not.toContain('one');
    expect((await inbox(a)).data).toEqual([]);
  });

  it('coalesces a burst from one sender in one thread into one notification whose count grows', async () => {
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    const thread = await start(a, b, 'first');
    for (let i = 0; i < 5; i++) await send(a, thread, `burst ${i}`);
    await drainOutbox(db);
    const received = (await inbox(b)).data.filter((n) => n.type === 'message.received');
    expect(received).toHaveLength(1);
    expect(received[0].count).toBe(5);
  });

  it('opens a new notification once the previous one is read; reading the thread marks its notifications read', async () => {
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    const thread = await start(a, b, 'hi');
    await send(a, thread, 'are you there?');
    await drainOutbox(db);
    const before = (await inbox(b, '?unreadOnly=true')).data;
    expect(before.map((n) => n.type).sort()).toEqual(['message.received', 'thread.started']);

    await t
      .http()
      .post(`/api/v1/messages/threads/${thread}/read`)
      .set(bearer(b))
      .send({})
      .expect(200);
    expect((await inbox(b, '?unreadOnly=true')).data).toEqual([]);

    await send(a, thread, 'again');
    await drainOutbox(db);
    const after = (await inbox(b, '?unreadOnly=true')).data;
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ type: 'message.received', count: 1 });
    expect(after[0].id).not.toBe(before.find((n) => n.type === 'message.received').id);
  });

  it('does not notify a message the recipient already read before the job ran', async () => {
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    const thread = await start(a, b, 'x');
    await drainOutbox(db);
    await t.http().post('/api/v1/notifications/read-all').set(bearer(b)).expect(200);
    // The reply moves b's pointer past a's messages in the same transaction as the send.
    await send(a, thread, 'quick');
    await send(b, thread, 'reply');
    await drainOutbox(db);
    const unread = (await inbox(b, '?unreadOnly=true')).data;
    expect(unread.filter((n) => n.threadId === thread)).toEqual([]);
  });

  it('never notifies a blocker of the blocked user’s messages or threads', async () => {
    const a = await t.createMember(org);
    const manager = await t.createMember(org, { role: 'manager' });
    const b = await t.createMember(org);
    const existing = await start(b, a, 'before the block');
    await drainOutbox(db);
    await t.http().post('/api/v1/notifications/read-all').set(bearer(a)).expect(200);
    await t.http().post(`/api/v1/messages/users/${b.userId}/block`).set(bearer(a)).expect(201);
    await t
      .http()
      .post(`/api/v1/messages/users/${manager.userId}/block`)
      .set(bearer(a))
      .expect(201);
    await send(b, existing, 'withheld');
    const started = await t
      .http()
      .post('/api/v1/messages/threads')
      .set(bearer(manager))
      .send({ recipientId: a.userId, body: 'withheld too' });
    expect(started.status).toBe(201);
    await drainOutbox(db);
    expect((await inbox(a, '?unreadOnly=true')).data).toEqual([]);
    // Earlier notifications from a blocked user are out of sight while the block lasts.
    const all = (await inbox(a)).data;
    expect(
      all.filter((n) => n.actor.userId === b.userId || n.actor.userId === manager.userId),
    ).toEqual([]);
  });

  it('gives a message sent before a block its notification whenever the worker runs', async () => {
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    const thread = await start(b, a);
    await drainOutbox(db);
    await t.http().post('/api/v1/notifications/read-all').set(bearer(a)).expect(200);
    await send(b, thread, 'just before the block');
    // The block lands before the worker gets to the message.
    await t.http().post(`/api/v1/messages/users/${b.userId}/block`).set(bearer(a)).expect(201);
    await drainOutbox(db);
    expect((await inbox(a, '?unreadOnly=true')).data).toEqual([]);
    await t.http().delete(`/api/v1/messages/users/${b.userId}/block`).set(bearer(a)).expect(204);
    // After the unblock the message is back, unread, and so is its notification: as if the
    // worker had run before the block.
    const unread = (await inbox(a, '?unreadOnly=true')).data;
    expect(unread.map((n) => [n.type, n.threadId, n.count])).toEqual([
      ['message.received', thread, 1],
    ]);
  });

  it('read-all and read neither count nor change the notifications a block hides', async () => {
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    const c = await t.createMember(org);
    const fromB = await start(b, a);
    await start(c, a);
    await drainOutbox(db);
    await t.http().post(`/api/v1/messages/users/${b.userId}/block`).set(bearer(a)).expect(201);
    // Hidden while the block lasts: not listed, not counted, not marked read.
    const hiddenId = (
      await db.query<{ id: string }>(
        'select id from notifications where user_id = $1 and thread_id = $2',
        [a.userId, fromB],
      )
    ).rows[0].id;
    const single = await t.http().post(`/api/v1/notifications/${hiddenId}/read`).set(bearer(a));
    expect(single.status).toBe(404);
    const all = await t.http().post('/api/v1/notifications/read-all').set(bearer(a));
    expect(all.body).toEqual({ updated: 1 });
    const state = await db.query<{ read_at: Date | null }>(
      'select read_at from notifications where id = $1',
      [hiddenId],
    );
    expect(state.rows[0].read_at).toBeNull();
    // After the unblock it is back, still unread.
    await t.http().delete(`/api/v1/messages/users/${b.userId}/block`).set(bearer(a)).expect(204);
    const unread = (await inbox(a, '?unreadOnly=true')).data;
    expect(unread.map((n) => n.id)).toEqual([hiddenId]);
  });

  it('keeps orgs apart', async () => {
    const other = t.createOrg();
    const x = await t.createMember(other);
    const y = await t.createMember(other);
    const a = await t.createMember(org);
    await start(x, y, 'elsewhere');
    await drainOutbox(db);
    expect((await inbox(a)).data).toEqual([]);
    expect((await inbox(y)).data).toHaveLength(1);
  });

  it('marks one notification read (idempotently) and answers 404 for someone else’s', async () => {
    const a = await t.createMember(org);
    const b = await t.createMember(org);
    await start(a, b);
    await drainOutbox(db);
    const [n] = (await inbox(b)).data;
    const first = await t.http().post(`/api/v1/notifications/${n.id}/read`).set(bearer(b));
    expect(first.status).toBe(200);
    expect(first.body.readAt).toEqual(expect.any(String));
    const second = await t.http().post(`/api/v1/notifications/${n.id}/read`).set(bearer(b));
    expect(second.body.readAt).toBe(first.body.readAt);
    const foreign = await t.http().post(`/api/v1/notifications/${n.id}/read`).set(bearer(a));
    const unknown = await t
      .http()
      .post(`/api/v1/notifications/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/read`)
      .set(bearer(a));
    expect(foreign.status).toBe(404);
    const { instance: _i1, ...foreignBody } = foreign.body;
    const { instance: _i2, ...unknownBody } = unknown.body;
    expect(foreignBody).toEqual(unknownBody);
  });

  it('marks all read and filters unread; paginates with cursors', async () => {
    const a = await t.createMember(org);
    const people = await Promise.all([0, 1, 2, 3, 4].map(() => t.createMember(org)));
    for (const p of people) await start(p, a);
    await drainOutbox(db);
    const page1 = await inbox(a, '?limit=2');
    const page2 = await inbox(a, `?limit=2&cursor=${page1.nextCursor}`);
    const page3 = await inbox(a, `?limit=2&cursor=${page2.nextCursor}`);
    expect(page3.nextCursor).toBeNull();
    const ids = [...page1.data, ...page2.data, ...page3.data].map((n) => n.id);
    expect(new Set(ids).size).toBe(5);
    const res = await t.http().post('/api/v1/notifications/read-all').set(bearer(a));
    expect(res.body).toEqual({ updated: 5 });
    expect((await inbox(a, '?unreadOnly=true')).data).toEqual([]);
    await t.http().get('/api/v1/notifications?unreadOnly=maybe').set(bearer(a)).expect(400);
  });

  it('stores no message text in notifications', async () => {
    const { rows } = await db.query<{ column_name: string }>(
      `select column_name from information_schema.columns where table_name = 'notifications'`,
    );
    expect(rows.map((r) => r.column_name).sort()).toEqual(
      [
        'actor_id',
        'count',
        'created_at',
        'endpoint_id',
        'id',
        'org_id',
        'read_at',
        'thread_id',
        'type',
        'updated_at',
        'user_id',
      ].sort(),
    );
  });

  it('shows its queues in the operators’ dashboard', async () => {
    const res = await t
      .http()
      .get('/admin/queues/api/queues')
      .auth(t.config.operator.user, t.config.operator.password);
    expect(res.status).toBe(200);
    const names = (res.body.queues as { name: string }[]).map((q) => q.name).sort();
    expect(names).toEqual(['notifications', 'outbox-relay', 'webhook-deliveries', 'webhooks']);
  });
});

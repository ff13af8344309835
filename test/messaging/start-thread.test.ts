import { randomUUID } from 'node:crypto';
import { startTestApp, bearer, type TestApp } from '../support/test-app';
import {
  API,
  ISO,
  UUID_V7,
  allMessages,
  allThreads,
  countRows,
  deactivate,
  expectProblem,
  newThread,
  reactivate,
  send,
  startThread,
  summaryOf,
  unread,
  updateSettings,
  withoutInstance,
  type MessageJson,
  type ThreadJson,
} from '../support/factories';

describe('starting a conversation (AC-1)', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      RATE_LIMIT_WRITES_PER_SECOND: '1000',
      RATE_LIMIT_READS_PER_SECOND: '1000',
      // The limiter fails open when Redis is slow; a busy test machine must not make it so.
      RATE_LIMIT_REDIS_TIMEOUT_MS: '2000',
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  it('creates a direct thread (201), then returns the same one to either side (200)', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org, { role: 'manager' });

    const first = await startThread(t, alice, bob);
    expect(first.status).toBe(201);
    const thread = first.body.thread as ThreadJson;
    expect(first.body).toEqual({ thread: expect.any(Object) });
    expect(thread).toEqual({
      id: expect.stringMatching(UUID_V7),
      kind: 'direct',
      participants: [summaryOf(alice), summaryOf(bob)],
      lastMessage: null,
      lastMessageAt: null,
      unreadCount: 0,
      createdAt: expect.stringMatching(ISO),
    });

    const again = await startThread(t, alice, bob);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ thread });

    const fromBob = await startThread(t, bob, alice);
    expect(fromBob.status).toBe(200);
    expect(fromBob.body.thread).toEqual({
      ...thread,
      participants: [summaryOf(bob), summaryOf(alice)],
    });

    // One thread in each list, nothing else.
    expect((await allThreads(t, alice)).map((x) => x.id)).toEqual([thread.id]);
    expect((await allThreads(t, bob)).map((x) => x.id)).toEqual([thread.id]);
    expect(await countRows(t, 'message_threads', 'org_id = $1 and id = $2', [org, thread.id])).toBe(
      1,
    );
  });

  it('treats a recipient id in upper case as the same member', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const upper = await startThread(t, alice, bob.userId.toUpperCase());
    expect(upper.status).toBe(201);
    expect(upper.body.thread.participants[1]).toEqual(summaryOf(bob));
    const lower = await startThread(t, alice, bob);
    expect([lower.status, lower.body.thread.id]).toEqual([200, upper.body.thread.id]);
  });

  it('sends a body as the first message (201 { thread, message })', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const res = await startThread(t, alice, bob, { body: '  Hello Bob  ' });
    expect(res.status).toBe(201);
    const message = res.body.message as MessageJson;
    expect(message).toEqual({
      id: expect.stringMatching(UUID_V7),
      threadId: res.body.thread.id,
      seq: 1,
      sender: summaryOf(alice),
      body: 'Hello Bob',
      clientMessageId: null,
      createdAt: expect.stringMatching(ISO),
      deleted: false,
      deletedAt: null,
      seenBy: [],
    });
    expect(res.body.thread).toEqual(
      expect.objectContaining({
        lastMessage: message,
        lastMessageAt: message.createdAt,
        unreadCount: 0,
      }),
    );
    expect(await unread(t, bob)).toEqual({ total: 1, threads: 1 });
    const bobsView = await allMessages(t, bob, res.body.thread.id);
    expect(bobsView.map((m) => [m.id, m.body])).toEqual([[message.id, 'Hello Bob']]);
  });

  it('sends a body given for an existing thread as a message (200 { thread, message })', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread } = await newThread(t, alice, bob, 'first');
    const res = await startThread(t, bob, alice, { body: 'second, from Bob' });
    expect(res.status).toBe(200);
    expect(res.body.thread.id).toBe(thread.id);
    expect(res.body.message).toEqual(
      expect.objectContaining({ seq: 2, body: 'second, from Bob', sender: summaryOf(bob) }),
    );
    expect(res.body.thread.lastMessage).toEqual(res.body.message);
    expect((await allMessages(t, alice, thread.id)).map((m) => m.body)).toEqual([
      'first',
      'second, from Bob',
    ]);
  });

  it('is race-free: both sides starting at once get one thread, created once', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2 ? startThread(t, alice, bob) : startThread(t, bob, alice),
      ),
    );
    expect(results.map((r) => r.status).sort((a, b) => a - b)).toEqual([
      ...Array(11).fill(200),
      201,
    ]);
    const ids = new Set(results.map((r) => r.body.thread.id as string));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(
      await countRows(t, 'outbox_events', `type = 'thread.created' and thread_id = $1`, [id]),
    ).toBe(1);
    expect((await allThreads(t, alice)).map((x) => x.id)).toEqual([id]);
  });

  it('refuses a thread with yourself (400), with or without a body, and writes nothing', async () => {
    const alice = await t.createMember(org);
    for (const extra of [{}, { body: 'note to self' }]) {
      const res = await startThread(t, alice, alice, extra);
      expectProblem(res, 400, 'bad-request');
    }
    const upper = await startThread(t, alice, alice.userId.toUpperCase());
    expectProblem(upper, 400, 'bad-request');
    expect(await allThreads(t, alice)).toEqual([]);
  });

  it('answers an unknown member and a member of another org with identical 404s', async () => {
    const alice = await t.createMember(org);
    const stranger = await t.createMember(t.createOrg());
    const unknown = await startThread(t, alice, randomUUID(), { body: 'hi' });
    const otherOrg = await startThread(t, alice, stranger, { body: 'hi' });
    expectProblem(unknown, 404, 'not-found');
    expect(withoutInstance(otherOrg)).toEqual(withoutInstance(unknown));
    expect(otherOrg.body.instance).toBe(`${API}/messages/threads`);
    expect(await allThreads(t, alice)).toEqual([]);
    expect(await allThreads(t, stranger)).toEqual([]);
  });

  it('validates the request and writes nothing when it is bad', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'recipientId'],
      [{ recipientId: 'not-a-uuid' }, 'recipientId'],
      [{ recipientId: bob.userId, body: '' }, 'body'],
      [{ recipientId: bob.userId, body: '   ' }, 'body'],
      [{ recipientId: bob.userId, body: 'x'.repeat(4001) }, 'body'],
      [{ recipientId: bob.userId, body: 'bell \u0007' }, 'body'],
      [{ recipientId: bob.userId, subject: 'hi' }, 'subject'],
      [{ recipientId: bob.userId, body: 'hi', kind: 'group' }, 'kind'],
    ];
    for (const [payload, field] of cases) {
      const res = await t.http().post(`${API}/messages/threads`).set(bearer(alice)).send(payload);
      expectProblem(res, 400, 'validation-failed');
      expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
    }
    expect(await allThreads(t, alice)).toEqual([]);
    expect(await allThreads(t, bob)).toEqual([]);
  });

  describe('hidden members', () => {
    it('are out of reach for residents (the same 404 as an unknown id), not for staff', async () => {
      const resident = await t.createMember(org);
      const hidden = await t.createMember(org, { visibility: 'hidden' });
      const unknown = await startThread(t, resident, randomUUID());
      const refused = await startThread(t, resident, hidden);
      expect(withoutInstance(refused)).toEqual(withoutInstance(unknown));
      expect(refused.status).toBe(404);
      expect(await allThreads(t, hidden)).toEqual([]);

      for (const role of ['manager', 'org_admin'] as const) {
        const staff = await t.createMember(org, { role });
        const res = await startThread(t, staff, hidden, { body: `hello from ${role}` });
        expect(res.status).toBe(201);
      }
      expect(await allThreads(t, hidden)).toHaveLength(2);
    });

    it('keeps an existing thread going after the member turns hidden', async () => {
      const resident = await t.createMember(org);
      const later = await t.createMember(org);
      const { thread } = await newThread(t, resident, later, 'before');
      expect((await updateSettings(t, later, { visibility: 'hidden' })).status).toBe(200);
      const again = await startThread(t, resident, later, { body: 'after' });
      expect(again.status).toBe(200);
      expect(again.body.thread.id).toBe(thread.id);
      expect((await send(t, resident, thread.id, 'still here')).status).toBe(201);
      expect((await allMessages(t, later, thread.id)).map((m) => m.body)).toEqual([
        'before',
        'after',
        'still here',
      ]);
    });
  });

  describe('deactivated members', () => {
    it('cannot be messaged: 404 on start, 409 recipient-inactive in an existing thread', async () => {
      const alice = await t.createMember(org);
      const bob = await t.createMember(org);
      const carol = await t.createMember(org);
      const { thread } = await newThread(t, alice, bob, 'hi Bob');
      const reply = await send(t, bob, thread.id, 'hi Alice');
      expect(reply.status).toBe(201);

      await deactivate(t, bob);
      await deactivate(t, carol);
      const unknown = await startThread(t, alice, randomUUID());
      const toCarol = await startThread(t, alice, carol);
      expect(withoutInstance(toCarol)).toEqual(withoutInstance(unknown));
      expect(toCarol.status).toBe(404);
      const toBob = await startThread(t, alice, bob);
      expect(withoutInstance(toBob)).toEqual(withoutInstance(unknown));

      const refused = await send(t, alice, thread.id, 'are you there?');
      expectProblem(refused, 409, 'recipient-inactive');
      expect(await countRows(t, 'messages', 'thread_id = $1', [thread.id])).toBe(2);

      // Their old messages stay; their token is refused.
      expect((await allMessages(t, alice, thread.id)).map((m) => m.body)).toEqual([
        'hi Bob',
        'hi Alice',
      ]);
      expect((await t.http().get(`${API}/me`).set(bearer(bob))).status).toBe(403);

      // Provisioning them again reactivates them.
      await reactivate(t, bob);
      expect((await send(t, alice, thread.id, 'welcome back')).status).toBe(201);
    });
  });

  it('allows 30 new threads an hour per user by default, then 429 with Retry-After', async () => {
    const caller = await t.createMember(org);
    const first = await t.createMember(org);
    await newThread(t, caller, first);
    for (let i = 1; i < 30; i++) {
      const recipient = await t.createMember(org);
      const res = await startThread(t, caller, recipient);
      expect(res.status).toBe(201);
    }
    const extra = await t.createMember(org);
    const limited = await startThread(t, caller, extra, { body: 'one too many' });
    expectProblem(limited, 429, 'rate-limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Refused means not created.
    expect(await allThreads(t, extra)).toEqual([]);
    // An existing thread is not a new one.
    const existing = await startThread(t, caller, first, { body: 'still fine' });
    expect(existing.status).toBe(200);
    // The limit is per user.
    const someoneElse = await t.createMember(org);
    expect((await startThread(t, someoneElse, extra)).status).toBe(201);
  });
});

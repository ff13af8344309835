import { randomUUID } from 'node:crypto';
import { startTestApp, bearer, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  API,
  ISO,
  UUID_V7,
  allMessages,
  countRows,
  expectProblem,
  getPage,
  listedThread,
  newThread,
  pageOf,
  send,
  sendMany,
  sent,
  summaryOf,
  unread,
  viewThread,
  type MessageJson,
  pair as makePair,
} from '../support/factories';

describe('sending and paging messages (AC-2)', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  const pair = () => makePair(t, org);

  it('accepts a message (201) in the documented shape, with time-ordered ids', async () => {
    const { alice, bob, threadId } = await pair();
    const res = await send(t, alice, threadId, '\n  Is the gym open on Sunday?\t ');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID_V7),
      threadId,
      seq: 1,
      sender: summaryOf(alice),
      body: 'Is the gym open on Sunday?',
      clientMessageId: null,
      createdAt: expect.stringMatching(ISO),
      deleted: false,
      deletedAt: null,
      seenBy: [],
    });
    const later = await sendMany(t, bob, threadId, 3);
    const ids = [res.body.id as string, ...later.map((m) => m.id)];
    expect([...ids].sort()).toEqual(ids);
    expect(later.map((m) => m.seq)).toEqual([2, 3, 4]);
    // What the sender was told is what both sides read (Bob's reply read it, as sending does).
    const seen = { ...res.body, seenBy: [{ userId: bob.userId, seenAt: later[0].createdAt }] };
    const asAlice = await allMessages(t, alice, threadId);
    expect(asAlice[0]).toEqual(seen);
    const asBob = await allMessages(t, bob, threadId);
    expect(asBob.map((m) => m.id)).toEqual(ids);
    expect(asBob[0]).toEqual(seen);
  });

  it('gives 60 concurrent sends from both sides seq 1..60 and one stable order on every read', async () => {
    const { alice, bob, threadId } = await pair();
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        send(t, i % 2 ? alice : bob, threadId, `concurrent ${i}`),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(60).fill(201));
    const accepted = results.map((r) => r.body as MessageJson);
    expect(accepted.map((m) => m.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    const bySeq = [...accepted].sort((a, b) => a.seq - b.seq).map((m) => m.id);
    expect(await countRows(t, 'messages', 'thread_id = $1', [threadId])).toBe(60);

    const ids = (list: MessageJson[]) => list.map((m) => m.id);
    const seqs = (list: MessageJson[]) => list.map((m) => m.seq);
    const asAlice = await allMessages(t, alice, threadId);
    expect(ids(asAlice)).toEqual(bySeq);
    expect(seqs(asAlice)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(ids(await allMessages(t, bob, threadId))).toEqual(bySeq);
    // Time and id order agree with seq too, however the sends raced: ids and createdAt strictly
    // increase along the thread, and lastMessageAt is the newest message's time.
    expect([...bySeq].sort()).toEqual(bySeq);
    const times = asAlice.map((m) => Date.parse(m.createdAt));
    expect(times.every((time, i) => i === 0 || time >= times[i - 1])).toBe(true);
    const listed = await listedThread(t, alice, threadId);
    expect(listed!.lastMessageAt).toBe(asAlice[59].createdAt);
    expect(ids(await allMessages(t, alice, threadId, 7))).toEqual(bySeq);
    expect(ids(await allMessages(t, bob, threadId, 13))).toEqual(bySeq);

    // Forward, as a polling client walks it.
    const forward: string[] = [bySeq[0]];
    for (;;) {
      const page = await pageOf(t, bob, threadId, { after: forward[forward.length - 1], limit: 9 });
      if (page.data.length === 0) break;
      expect(page.data.length).toBeLessThanOrEqual(9);
      forward.push(...ids(page.data));
    }
    expect(forward).toEqual(bySeq);

    // Every message keeps its body and sender through the reordering.
    for (const m of asAlice) {
      const original = accepted.find((a) => a.id === m.id)!;
      expect([m.body, m.sender.userId, m.createdAt]).toEqual([
        original.body,
        original.sender.userId,
        original.createdAt,
      ]);
    }
  });

  it('pages from the latest: default 50, older via before, nextCursor null at the start', async () => {
    const { alice, bob, threadId } = await pair();
    const messages = await sendMany(t, alice, threadId, 56);
    const ids = messages.map((m) => m.id);

    const latest = await pageOf(t, bob, threadId);
    expect(latest.data.map((m) => m.id)).toEqual(ids.slice(6));
    expect(latest.nextCursor).toBe(ids[6]);
    const older = await pageOf(t, bob, threadId, { before: latest.nextCursor! });
    expect(older).toEqual({ data: expect.any(Array), nextCursor: null });
    expect(older.data.map((m) => m.id)).toEqual(ids.slice(0, 6));

    const view = await viewThread(t, bob, threadId);
    expect(view.status).toBe(200);
    expect(view.body.messages).toEqual(latest);
    expect(view.body.thread).toEqual(
      expect.objectContaining({ id: threadId, lastMessage: messages[55], unreadCount: 56 }),
    );
    // The view takes the page size too; other query parameters are refused.
    const small = await t
      .http()
      .get(`${API}/messages/threads/${threadId}?limit=3`)
      .set(bearer(bob))
      .expect(200);
    expect(small.body.messages).toEqual({ data: messages.slice(53), nextCursor: ids[53] });
    expectProblem(
      await t.http().get(`${API}/messages/threads/${threadId}?limit=0`).set(bearer(bob)),
      400,
      'validation-failed',
    );
    expectProblem(
      await t.http().get(`${API}/messages/threads/${threadId}?before=${ids[3]}`).set(bearer(bob)),
      400,
      'validation-failed',
    );

    const hundred = await pageOf(t, bob, threadId, { limit: 100 });
    expect(hundred).toEqual({ data: expect.any(Array), nextCursor: null });
    expect(hundred.data.map((m) => m.id)).toEqual(ids);

    // Exactly `limit` messages: no older ones, so no cursor.
    const exact = await pageOf(t, bob, threadId, { limit: 6, before: ids[6] });
    expect(exact.data.map((m) => m.id)).toEqual(ids.slice(0, 6));
    expect(exact.nextCursor).toBeNull();
    const middle = await pageOf(t, bob, threadId, { limit: 5, before: ids[20] });
    expect(middle.data.map((m) => m.seq)).toEqual([16, 17, 18, 19, 20]);
    expect(middle.nextCursor).toBe(ids[15]);
    const start = await pageOf(t, bob, threadId, { before: ids[0] });
    expect(start).toEqual({ data: [], nextCursor: null });
  });

  it('pages an empty thread as an empty page', async () => {
    const { bob, threadId } = await pair();
    expect(await pageOf(t, bob, threadId)).toEqual({ data: [], nextCursor: null });
    const view = await viewThread(t, bob, threadId);
    expect(view.body.messages).toEqual({ data: [], nextCursor: null });
  });

  it('answers `after` (polling) with only newer messages, oldest first', async () => {
    const { alice, bob, threadId } = await pair();
    const early = await sendMany(t, alice, threadId, 3, 'early');
    const empty = await pageOf(t, bob, threadId, { after: early[2].id });
    expect(empty).toEqual({ data: [], nextCursor: null });

    const newer = [
      await sent(t, alice, threadId, 'new 1'),
      await sent(t, bob, threadId, 'new 2'),
      await sent(t, alice, threadId, 'new 3'),
    ];
    const polled = await pageOf(t, bob, threadId, { after: early[2].id });
    expect(polled.data.map((m) => m.body)).toEqual(['new 1', 'new 2', 'new 3']);
    expect(polled.data.map((m) => m.id)).toEqual(newer.map((m) => m.id));
    // The messages before the page are reachable with the cursor.
    expect(polled.nextCursor).toBe(newer[0].id);
    const back = await pageOf(t, bob, threadId, { before: polled.nextCursor! });
    expect(back.data.map((m) => m.id)).toEqual(early.map((m) => m.id));

    const limited = await pageOf(t, bob, threadId, { after: early[0].id, limit: 2 });
    expect(limited.data.map((m) => m.body)).toEqual(['early 2', 'early 3']);
    const again = await pageOf(t, bob, threadId, { after: newer[2].id });
    expect(again.data).toEqual([]);
  });

  it('refuses bad page queries with 400', async () => {
    const { alice, bob, threadId } = await pair();
    const [m1, m2] = await sendMany(t, alice, threadId, 2);
    const elsewhere = await newThread(t, alice, await t.createMember(org), 'other thread');
    const bad: Record<string, string | number>[] = [
      { limit: 0 },
      { limit: 101 },
      { limit: 'abc' },
      { limit: 1.5 },
      { limit: -1 },
      { before: 'not-a-uuid' },
      { after: '123' },
      { before: m2.id, after: m1.id },
      { before: randomUUID() },
      { after: randomUUID() },
      { before: elsewhere.message!.id },
      { after: elsewhere.message!.id },
    ];
    for (const query of bad) {
      const res = await getPage(t, bob, threadId, query);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expectProblem(await getPage(t, bob, threadId, { limit: 0 }), 400, 'validation-failed');
  });

  describe('message bodies', () => {
    it('refuses empty, whitespace-only, over-long and control-character bodies (400) and writes nothing', async () => {
      const { alice, threadId } = await pair();
      const bad: unknown[] = [
        '',
        '   ',
        ' \n\t\r\n ',
        'x'.repeat(4001),
        '😀'.repeat(4001),
        'nul \u0000 inside',
        'bell \u0007',
        'escape \u001b[31mred',
        'delete \u007f',
        'next line \u0085',
        'vertical \u000b tab',
        42,
        null,
        ['hi'],
      ];
      for (const body of bad) {
        const res = await send(t, alice, threadId, body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
        expectProblem(res, 400, 'validation-failed');
        expect(res.body.errors).toEqual([{ field: 'body', message: expect.any(String) }]);
      }
      const missing = await t
        .http()
        .post(`${API}/messages/threads/${threadId}/messages`)
        .set(bearer(alice))
        .send({});
      expectProblem(missing, 400, 'validation-failed');
      expect(await countRows(t, 'messages', 'thread_id = $1', [threadId])).toBe(0);
    });

    it('accepts up to 4000 code points after trimming, counting an emoji as one, keeping inner newlines and tabs', async () => {
      const { alice, bob, threadId } = await pair();
      const accepted = [
        { sent: 'x'.repeat(4000), stored: 'x'.repeat(4000) },
        { sent: '😀'.repeat(4000), stored: '😀'.repeat(4000) },
        { sent: `  \n${'y'.repeat(4000)}\t \r\n`, stored: 'y'.repeat(4000) },
        { sent: 'line 1\nline 2\r\n\tindented', stored: 'line 1\nline 2\r\n\tindented' },
        { sent: 'é – ü – 中文 – 👩‍👩‍👧', stored: 'é – ü – 中文 – 👩‍👩‍👧' },
      ];
      for (const { sent: body, stored } of accepted) {
        const res = await send(t, alice, threadId, body);
        expect(res.status).toBe(201);
        expect(res.body.body).toBe(stored);
      }
      const asBob = await allMessages(t, bob, threadId);
      expect(asBob.map((m) => m.body)).toEqual(accepted.map((a) => a.stored));
    });

    it('refuses unknown fields (400) and writes nothing', async () => {
      const { alice, threadId } = await pair();
      const res = await t
        .http()
        .post(`${API}/messages/threads/${threadId}/messages`)
        .set(bearer(alice))
        .send({ body: 'hi', priority: 'high' });
      expectProblem(res, 400, 'validation-failed');
      expect(res.body.errors).toEqual([
        { field: 'priority', message: expect.stringContaining('priority') },
      ]);
      expect(await countRows(t, 'messages', 'thread_id = $1', [threadId])).toBe(0);
      expect(
        await countRows(t, 'outbox_events', 'thread_id = $1 and message_id is not null', [
          threadId,
        ]),
      ).toBe(0);
    });

    it('refuses a malformed thread id (400)', async () => {
      const { alice } = await pair();
      const res = await send(t, alice, 'not-a-uuid', 'hi');
      expectProblem(res, 400, 'validation-failed');
    });
  });

  it('reading a thread has no side effects', async () => {
    const { alice, bob, threadId } = await pair();
    await sendMany(t, alice, threadId, 3);
    const before = await unread(t, bob);
    const view1 = await viewThread(t, bob, threadId);
    await pageOf(t, bob, threadId);
    await pageOf(t, bob, threadId, { limit: 1 });
    const view2 = await viewThread(t, bob, threadId);
    expect(view2.body).toEqual(view1.body);
    expect(await unread(t, bob)).toEqual(before);
    expect(before).toEqual({ total: 3, threads: 1 });
    const page = await pageOf(t, alice, threadId);
    expect(page.data.map((m) => m.seenBy)).toEqual([[], [], []]);
  });
});

import { randomUUID } from 'node:crypto';
import { startTestApp, bearer, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  API,
  ISO,
  allMessages,
  countRows,
  delay,
  expectProblem,
  listedThread,
  markRead,
  newThread,
  sendMany,
  sent,
  unread,
  updateSettings,
  withoutInstance,
  pair as makePair,
} from '../support/factories';

describe('read pointer and receipts (AC-2)', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  const pair = (options: { readReceipts?: boolean } = {}) => makePair(t, org, options);
  const seenBy = async (viewer: Member, threadId: string) =>
    Object.fromEntries(
      (await allMessages(t, viewer, threadId)).map((m) => [m.body ?? m.id, m.seenBy]),
    );

  it('records exactly when each message was first seen', async () => {
    const { alice, bob, threadId } = await pair();
    const [m1, m2, m3] = await sendMany(t, alice, threadId, 3, 'm');

    const first = await markRead(t, bob, threadId, m1.id);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      threadId,
      lastReadMessageId: m1.id,
      readAt: expect.stringMatching(ISO),
    });
    await delay(50);
    const second = await markRead(t, bob, threadId, m2.id);
    expect(second.body.lastReadMessageId).toBe(m2.id);
    const r1 = first.body.readAt as string;
    const r2 = second.body.readAt as string;
    expect(Date.parse(r2) - Date.parse(r1)).toBeGreaterThanOrEqual(40);

    const expected = {
      'm 1': [{ userId: bob.userId, seenAt: r1 }],
      'm 2': [{ userId: bob.userId, seenAt: r2 }],
      'm 3': [],
    };
    expect(await seenBy(alice, threadId)).toEqual(expected);
    expect(await seenBy(bob, threadId)).toEqual(expected);

    // Reading to the end (the default) covers the rest at one moment.
    const rest = await markRead(t, bob, threadId);
    expect(rest.body.lastReadMessageId).toBe(m3.id);
    const all = await allMessages(t, alice, threadId);
    expect(all.map((m) => m.seenBy[0]?.seenAt)).toEqual([r1, r2, rest.body.readAt]);
    expect((await listedThread(t, alice, threadId))!.lastMessage!.seenBy).toEqual([
      { userId: bob.userId, seenAt: rest.body.readAt as string },
    ]);
  });

  it('never shows a message seen before it was sent, however sends and reads race', async () => {
    const { alice, bob, threadId } = await pair();
    for (let round = 0; round < 40; round++) {
      const [read] = await Promise.all([
        markRead(t, alice, threadId),
        sent(t, bob, threadId, `race ${round}`),
      ]);
      expect(read.status).toBe(200);
    }
    const messages = await allMessages(t, bob, threadId);
    expect(messages).toHaveLength(40);
    for (const m of messages) {
      for (const seen of m.seenBy) {
        expect({ seq: m.seq, early: Date.parse(seen.seenAt) < Date.parse(m.createdAt) }).toEqual({
          seq: m.seq,
          early: false,
        });
      }
    }
  });

  it('never moves the pointer back', async () => {
    const { alice, bob, threadId } = await pair();
    const [m1, m2] = await sendMany(t, alice, threadId, 2, 'm');
    const forward = await markRead(t, bob, threadId, m2.id);
    const before = await seenBy(alice, threadId);

    const back = await markRead(t, bob, threadId, m1.id);
    expect(back.status).toBe(200);
    expect(back.body).toEqual(forward.body);
    const same = await markRead(t, bob, threadId);
    expect(same.body).toEqual(forward.body);
    expect(await seenBy(alice, threadId)).toEqual(before);
    expect(await unread(t, bob)).toEqual({ total: 0, threads: 0 });

    // A new message is unread, and reading it moves on from m2.
    const m3 = await sent(t, alice, threadId, 'm 3');
    expect(await unread(t, bob)).toEqual({ total: 1, threads: 1 });
    const next = await markRead(t, bob, threadId, m3.id);
    expect(next.body.lastReadMessageId).toBe(m3.id);
    expect((await seenBy(alice, threadId))['m 1']).toEqual(before['m 1']);
  });

  it('moves the sender’s own pointer to the message they send', async () => {
    const { alice, bob, threadId } = await pair();
    await sendMany(t, alice, threadId, 2, 'a');
    expect(await unread(t, bob)).toEqual({ total: 2, threads: 1 });
    const reply = await sent(t, bob, threadId, 'b 1');
    expect(await unread(t, bob)).toEqual({ total: 0, threads: 0 });
    expect(await seenBy(alice, threadId)).toEqual({
      'a 1': [{ userId: bob.userId, seenAt: reply.createdAt }],
      'a 2': [{ userId: bob.userId, seenAt: reply.createdAt }],
      'b 1': [],
    });
    const read = await markRead(t, bob, threadId);
    expect(read.body.lastReadMessageId).toBe(reply.id);
    // The pointer moved when Bob sent: that is its read time, not an earlier read.
    expect(read.body.readAt).toBe(reply.createdAt);
  });

  it('answers a message the caller cannot see with 404 and bad input with 400', async () => {
    const { alice, bob, threadId } = await pair();
    const mine = await sent(t, alice, threadId, 'hello');
    const elsewhere = await newThread(t, alice, await t.createMember(org), 'elsewhere');
    const unknown = await markRead(t, bob, threadId, randomUUID());
    expectProblem(unknown, 404, 'not-found');
    const otherThread = await markRead(t, bob, threadId, elsewhere.message!.id);
    expect(withoutInstance(otherThread)).toEqual(withoutInstance(unknown));
    expectProblem(await markRead(t, bob, threadId, 'not-a-uuid'), 400, 'validation-failed');
    const extra = await t
      .http()
      .post(`${API}/messages/threads/${threadId}/read`)
      .set(bearer(bob))
      .send({ upToMessageId: mine.id, seenAt: new Date().toISOString() });
    expectProblem(extra, 400, 'validation-failed');
    // None of that moved anything.
    expect(await seenBy(alice, threadId)).toEqual({ hello: [] });
    expect(await unread(t, bob)).toEqual({ total: 1, threads: 1 });
  });

  it('reads to the latest message when the request has no body at all', async () => {
    const { alice, bob, threadId } = await pair();
    const [, last] = await sendMany(t, alice, threadId, 2, 'm');
    const res = await t.http().post(`${API}/messages/threads/${threadId}/read`).set(bearer(bob));
    expect(res.status).toBe(200);
    expect(res.body.lastReadMessageId).toBe(last.id);
    expect(await unread(t, bob)).toEqual({ total: 0, threads: 0 });
  });

  it('answers a read of an empty thread with the pointer at nothing', async () => {
    const { bob, threadId } = await pair();
    const res = await markRead(t, bob, threadId);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.objectContaining({ threadId, lastReadMessageId: null }));
  });

  it('honours readReceipts = false both ways', async () => {
    const { alice: dave, bob: carol, threadId } = await pair({ readReceipts: false });
    const d1 = await sent(t, dave, threadId, 'd 1');
    await markRead(t, carol, threadId);
    const c1 = await sent(t, carol, threadId, 'c 1');
    await markRead(t, dave, threadId);

    // Carol emits none: Dave does not see that she read d 1.
    expect((await allMessages(t, dave, threadId))[0].seenBy).toEqual([]);
    // And sees none: Carol does not see that Dave read c 1.
    const carolsView = await allMessages(t, carol, threadId);
    expect(carolsView.map((m) => m.seenBy)).toEqual([[], []]);
    expect((await listedThread(t, carol, threadId))!.lastMessage!.seenBy).toEqual([]);
    // Carol's reads are for her own devices only (receipts: false: no webhook, no other
    // participant's stream); Dave's are receipts.
    const readEvents = (actor: string, receipts: boolean) =>
      countRows(
        t,
        'outbox_events',
        `type = 'message.read' and thread_id = $1 and actor_id = $2
         and coalesce((data->>'receipts')::boolean, true) = $3`,
        [threadId, actor, receipts],
      );
    expect([await readEvents(carol.userId, true), await readEvents(carol.userId, false)]).toEqual([
      0, 1,
    ]);
    expect([await readEvents(dave.userId, true), await readEvents(dave.userId, false)]).toEqual([
      1, 0,
    ]);
    expect([d1.seq, c1.seq]).toEqual([1, 2]);
  });

  it('reveals only reads made after receipts are turned back on, for both sides', async () => {
    const { alice: dave, bob: carol, threadId } = await pair();
    // The receipts each one sees on their own messages (what the other has read).
    const onOwn = async (viewer: Member) =>
      Object.fromEntries(
        (await allMessages(t, viewer, threadId))
          .filter((m) => m.sender.userId === viewer.userId)
          .map((m) => [m.body, m.seenBy]),
      );
    await sent(t, dave, threadId, 'd 1');
    await markRead(t, carol, threadId);
    await sent(t, carol, threadId, 'c 1');
    await markRead(t, dave, threadId);
    expect((await onOwn(dave))['d 1']).toHaveLength(1);
    expect((await onOwn(carol))['c 1']).toHaveLength(1);

    expect((await updateSettings(t, carol, { readReceipts: false })).body.readReceipts).toBe(false);
    expect(await onOwn(dave)).toEqual({ 'd 1': [] });
    expect(await onOwn(carol)).toEqual({ 'c 1': [] });
    // Reads made while off …
    await sent(t, dave, threadId, 'd 2');
    await markRead(t, carol, threadId);
    await sent(t, carol, threadId, 'c 2');
    await markRead(t, dave, threadId);
    await delay(5);

    expect((await updateSettings(t, carol, { readReceipts: true })).body.readReceipts).toBe(true);
    // … and before stay hidden, whichever side looks.
    expect(await onOwn(dave)).toEqual({ 'd 1': [], 'd 2': [] });
    expect(await onOwn(carol)).toEqual({ 'c 1': [], 'c 2': [] });

    // Reads from now on show, both ways.
    await sent(t, dave, threadId, 'd 3');
    const carolRead = await markRead(t, carol, threadId);
    await sent(t, carol, threadId, 'c 3');
    const daveRead = await markRead(t, dave, threadId);
    expect(await onOwn(dave)).toEqual({
      'd 1': [],
      'd 2': [],
      'd 3': [{ userId: carol.userId, seenAt: carolRead.body.readAt as string }],
    });
    expect(await onOwn(carol)).toEqual({
      'c 1': [],
      'c 2': [],
      'c 3': [{ userId: dave.userId, seenAt: daveRead.body.readAt as string }],
    });
  });
});

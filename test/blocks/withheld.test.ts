import { randomUUID } from 'node:crypto';
import { startTestApp, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  ISO,
  UUID_V7,
  allMessages,
  block,
  countRows,
  deleteMessage,
  expectProblem,
  getPage,
  listedThread,
  markRead,
  newThread,
  send,
  sent,
  startThread,
  summaryOf,
  unblock,
  unread,
  viewThread,
  withoutInstance,
  type MessageJson,
} from '../support/factories';

describe('blocking: withheld and hidden messages (AC-3)', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  /**
   * Alice and Bob talk: a1 (Alice), b1, b2 (Bob), a2 (Alice: her pointer passes b1, b2), b3
   * (Bob, unread for Alice).
   */
  const conversation = async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const started = await newThread(t, alice, bob, 'a1');
    const threadId = started.thread.id;
    const a1 = started.message!;
    const b1 = await sent(t, bob, threadId, 'b1');
    const b2 = await sent(t, bob, threadId, 'b2');
    const a2 = await sent(t, alice, threadId, 'a2');
    const b3 = await sent(t, bob, threadId, 'b3');
    return { alice, bob, threadId, a1, b1, b2, a2, b3 };
  };
  const bodies = async (viewer: Member, threadId: string) =>
    (await allMessages(t, viewer, threadId)).map((m) => m.body);

  /** Everything Alice sees of the thread, in one comparable value. */
  const aliceSees = async (alice: Member, threadId: string) => {
    const view = await viewThread(t, alice, threadId);
    const listed = await listedThread(t, alice, threadId);
    return {
      messages: await bodies(alice, threadId),
      view: (view.body.messages.data as MessageJson[]).map((m) => m.body),
      preview: listed?.lastMessage?.body,
      lastMessageAt: listed?.lastMessageAt,
      unreadInList: listed?.unreadCount,
      unread: await unread(t, alice),
    };
  };

  it('hides all of Bob’s messages from Alice while she blocks him, earlier ones included', async () => {
    const { alice, bob, threadId, a2 } = await conversation();
    expect(await aliceSees(alice, threadId)).toEqual({
      messages: ['a1', 'b1', 'b2', 'a2', 'b3'],
      view: ['a1', 'b1', 'b2', 'a2', 'b3'],
      preview: 'b3',
      lastMessageAt: expect.any(String),
      unreadInList: 1,
      unread: { total: 1, threads: 1 },
    });
    expect((await block(t, alice, bob)).status).toBe(201);
    expect(await aliceSees(alice, threadId)).toEqual({
      messages: ['a1', 'a2'],
      view: ['a1', 'a2'],
      preview: 'a2',
      lastMessageAt: a2.createdAt,
      unreadInList: 0,
      unread: { total: 0, threads: 0 },
    });
    // Bob sees his conversation as before.
    expect(await bodies(bob, threadId)).toEqual(['a1', 'b1', 'b2', 'a2', 'b3']);
  });

  it('accepts Bob’s sends exactly as usual while withholding them from Alice', async () => {
    const { alice, bob, threadId } = await conversation();
    await block(t, alice, bob);
    const before = await aliceSees(alice, threadId);

    const key = randomUUID();
    const res = await send(t, bob, threadId, '  withheld 1 ', { clientMessageId: key });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID_V7),
      threadId,
      seq: 6,
      sender: summaryOf(bob),
      body: 'withheld 1',
      clientMessageId: key,
      createdAt: expect.stringMatching(ISO),
      deleted: false,
      deletedAt: null,
      seenBy: [],
    });
    const second = await send(t, bob, threadId, 'withheld 2');
    expect([second.status, second.body.seq]).toEqual([201, 7]);
    const repeat = await send(t, bob, threadId, 'withheld 1', {
      clientMessageId: key,
    });
    expect([repeat.status, repeat.body]).toEqual([200, res.body]);

    expect(await aliceSees(alice, threadId)).toEqual(before);
    expect(await bodies(bob, threadId)).toEqual([
      'a1',
      'b1',
      'b2',
      'a2',
      'b3',
      'withheld 1',
      'withheld 2',
    ]);
    expect(await countRows(t, 'messages', 'thread_id = $1', [threadId])).toBe(7);
  });

  it('refuses Alice starting or sending to Bob with 409 blocked-by-you and writes nothing', async () => {
    const { alice, bob, threadId } = await conversation();
    const stranger = await t.createMember(org);
    await block(t, alice, bob);
    await block(t, alice, stranger);
    expectProblem(await send(t, alice, threadId, 'hello?'), 409, 'blocked-by-you');
    expectProblem(await startThread(t, alice, bob), 409, 'blocked-by-you');
    expectProblem(await startThread(t, alice, bob, { body: 'hi' }), 409, 'blocked-by-you');
    // A new thread too.
    expectProblem(await startThread(t, alice, stranger, { body: 'hi' }), 409, 'blocked-by-you');
    expect(await countRows(t, 'messages', 'thread_id = $1', [threadId])).toBe(5);
    expect(
      await countRows(t, 'message_threads', '$1 in (user_low, user_high)', [stranger.userId]),
    ).toBe(0);
    // A refused send is not remembered: after unblocking, the key works.
    const key = randomUUID();
    expectProblem(
      await send(t, alice, threadId, 'keyed', { clientMessageId: key }),
      409,
      'blocked-by-you',
    );
    await unblock(t, alice, bob);
    expect((await send(t, alice, threadId, 'keyed', { clientMessageId: key })).status).toBe(201);
  });

  it('treats Bob’s messages as absent for Alice’s reads, deletes and cursors while blocked', async () => {
    const { alice, bob, threadId, b1, b3 } = await conversation();
    await block(t, alice, bob);
    const unknownMessage = await markRead(t, alice, threadId, randomUUID());
    const readBobs = await markRead(t, alice, threadId, b3.id);
    expect(withoutInstance(readBobs)).toEqual(withoutInstance(unknownMessage));
    expect(readBobs.status).toBe(404);

    const deleteUnknown = await deleteMessage(t, alice, threadId, randomUUID());
    const deleteBobs = await deleteMessage(t, alice, threadId, b1.id);
    expect(withoutInstance(deleteBobs)).toEqual(withoutInstance(deleteUnknown));
    expect(deleteBobs.status).toBe(404);

    for (const [field, id] of [
      ['before', b3.id],
      ['after', b1.id],
    ]) {
      const unknown = await getPage(t, alice, threadId, { [field]: randomUUID() });
      const res = await getPage(t, alice, threadId, { [field]: id });
      expect(res.status).toBe(400);
      expect(withoutInstance(res)).toEqual(withoutInstance(unknown));
    }
    // Bob is not affected.
    expect((await getPage(t, bob, threadId, { after: b1.id })).status).toBe(200);
  });

  it('brings back the earlier messages on unblock, never the withheld ones, everywhere alike', async () => {
    const { alice, bob, threadId, b3 } = await conversation();
    await block(t, alice, bob);
    await sent(t, bob, threadId, 'w1');
    await sent(t, bob, threadId, 'w2');
    expect((await unblock(t, alice, bob)).status).toBe(204);

    expect(await aliceSees(alice, threadId)).toEqual({
      messages: ['a1', 'b1', 'b2', 'a2', 'b3'],
      view: ['a1', 'b1', 'b2', 'a2', 'b3'],
      preview: 'b3',
      lastMessageAt: b3.createdAt,
      unreadInList: 1,
      unread: { total: 1, threads: 1 },
    });
    const seqs = (await allMessages(t, alice, threadId)).map((m) => m.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);

    const b4 = await sent(t, bob, threadId, 'b4');
    expect(await aliceSees(alice, threadId)).toEqual({
      messages: ['a1', 'b1', 'b2', 'a2', 'b3', 'b4'],
      view: ['a1', 'b1', 'b2', 'a2', 'b3', 'b4'],
      preview: 'b4',
      lastMessageAt: b4.createdAt,
      unreadInList: 2,
      unread: { total: 2, threads: 1 },
    });
    // Polling after b3 skips the withheld ones: a gap in seq, not a loss.
    const polled = await getPage(t, alice, threadId, { after: b3.id });
    expect((polled.body.data as MessageJson[]).map((m) => [m.body, m.seq])).toEqual([['b4', 8]]);
  });

  it('lets a read pass the messages hidden from the reader, as a read without a block would', async () => {
    const { alice, bob, threadId, a2 } = await conversation();
    await block(t, alice, bob);
    await sent(t, bob, threadId, 'w1');
    await sent(t, bob, threadId, 'w2');
    // Alice sees a1 and a2 only; reading passes everything up to the next message she could
    // see (none): Bob sees his messages read, exactly as if there were no block.
    const read = await markRead(t, alice, threadId);
    expect(read.status).toBe(200);
    // The answer names the message Alice read, never one hidden from her.
    expect(read.body.lastReadMessageId).toBe(a2.id);
    const receipt = [{ userId: alice.userId, seenAt: read.body.readAt as string }];
    const bobSees = await allMessages(t, bob, threadId);
    expect(bobSees.slice(4).map((m) => [m.body, m.seenBy])).toEqual([
      ['b3', receipt],
      ['w1', receipt],
      ['w2', receipt],
    ]);
    // A second read changes nothing and still names a2.
    const again = await markRead(t, alice, threadId);
    expect(again.body).toEqual(read.body);

    await unblock(t, alice, bob);
    const b4 = await sent(t, bob, threadId, 'b4');
    const after = await markRead(t, alice, threadId);
    expect(after.body.lastReadMessageId).toBe(b4.id);
    const later = [{ userId: alice.userId, seenAt: after.body.readAt as string }];
    expect((await allMessages(t, bob, threadId)).slice(4).map((m) => [m.body, m.seenBy])).toEqual([
      ['b3', receipt],
      ['w1', receipt],
      ['w2', receipt],
      ['b4', later],
    ]);
    expect(await unread(t, alice)).toEqual({ total: 0, threads: 0 });
  });

  it('counts a withheld message at the end of the thread as seen when Alice reads after unblocking', async () => {
    const { alice, bob, threadId, b3 } = await conversation();
    await block(t, alice, bob);
    await sent(t, bob, threadId, 'w1');
    await unblock(t, alice, bob);
    // b3 is Alice's latest visible message; w1 after it is withheld. Without a block, this read
    // would pass both: so it does here, or Bob would see b3 read and w1, older than the read, not.
    const read = await markRead(t, alice, threadId);
    expect(read.body.lastReadMessageId).toBe(b3.id);
    const receipt = [{ userId: alice.userId, seenAt: read.body.readAt as string }];
    expect((await allMessages(t, bob, threadId)).slice(4).map((m) => [m.body, m.seenBy])).toEqual([
      ['b3', receipt],
      ['w1', receipt],
    ]);
    // Reading up to b3 explicitly passes w1 as well: it lies before the next message she can see.
    const { alice: a2, bob: b2, threadId: t2, b3: b3b } = await conversation();
    await block(t, a2, b2);
    await sent(t, b2, t2, 'w1');
    await unblock(t, a2, b2);
    const explicit = await markRead(t, a2, t2, b3b.id);
    const seen = [{ userId: a2.userId, seenAt: explicit.body.readAt as string }];
    expect((await allMessages(t, b2, t2)).slice(4).map((m) => [m.body, m.seenBy])).toEqual([
      ['b3', seen],
      ['w1', seen],
    ]);
  });

  it('hides them again on a re-block, and brings back the same ones after', async () => {
    const { alice, bob, threadId } = await conversation();
    await block(t, alice, bob);
    await sent(t, bob, threadId, 'w1');
    await unblock(t, alice, bob);
    const b4 = await sent(t, bob, threadId, 'b4');
    const visible = await aliceSees(alice, threadId);
    expect(visible.messages).toEqual(['a1', 'b1', 'b2', 'a2', 'b3', 'b4']);

    expect((await block(t, alice, bob)).status).toBe(201);
    expect((await aliceSees(alice, threadId)).messages).toEqual(['a1', 'a2']);
    await sent(t, bob, threadId, 'w2');
    expect((await unblock(t, alice, bob)).status).toBe(204);
    expect(await aliceSees(alice, threadId)).toEqual(visible);
    expect(visible.lastMessageAt).toBe(b4.createdAt);
  });

  it('keeps Alice’s counts right when Bob deletes messages during and after a block', async () => {
    const { alice, bob, threadId, b3 } = await conversation();
    await block(t, alice, bob);
    const w1 = await sent(t, bob, threadId, 'w1');
    expect((await deleteMessage(t, bob, threadId, b3.id)).status).toBe(204);
    await unblock(t, alice, bob);
    // b3 was unread, but is deleted now.
    expect(await unread(t, alice)).toEqual({ total: 0, threads: 0 });
    const b4 = await sent(t, bob, threadId, 'b4');
    expect(await unread(t, alice)).toEqual({ total: 1, threads: 1 });
    // Deleting a withheld message does not touch what Alice counts.
    expect((await deleteMessage(t, bob, threadId, w1.id)).status).toBe(204);
    expect(await unread(t, alice)).toEqual({ total: 1, threads: 1 });
    expect((await listedThread(t, alice, threadId))!.lastMessage!.id).toBe(b4.id);
    // A withheld message stays out of reach for Alice's read pointer too.
    const unknown = await markRead(t, alice, threadId, randomUUID());
    const withheld = await markRead(t, alice, threadId, w1.id);
    expect(withoutInstance(withheld)).toEqual(withoutInstance(unknown));
    expect(await bodies(alice, threadId)).toEqual(['a1', 'b1', 'b2', 'a2', null, 'b4']);
  });

  it('handles mutual blocks: each sees only their own messages and neither can send', async () => {
    const { alice, bob, threadId } = await conversation();
    await block(t, alice, bob);
    await block(t, bob, alice);
    expect(await bodies(alice, threadId)).toEqual(['a1', 'a2']);
    expect(await bodies(bob, threadId)).toEqual(['b1', 'b2', 'b3']);
    expectProblem(await send(t, alice, threadId, 'x'), 409, 'blocked-by-you');
    expectProblem(await send(t, bob, threadId, 'x'), 409, 'blocked-by-you');
    // Alice lifts hers: her sends now go out as usual but are withheld from Bob.
    await unblock(t, alice, bob);
    const a3 = await send(t, alice, threadId, 'a3');
    expect(a3.status).toBe(201);
    expect(await bodies(alice, threadId)).toEqual(['a1', 'b1', 'b2', 'a2', 'b3', 'a3']);
    await unblock(t, bob, alice);
    expect(await bodies(bob, threadId)).toEqual(['a1', 'b1', 'b2', 'a2', 'b3']);
  });

  it('marks every outbox event of a withheld message withheld: the sender’s own streams only, never notifications or webhooks', async () => {
    const { alice, bob, threadId, b3 } = await conversation();
    const outbox = (messageId: string, withheld: boolean) =>
      countRows(
        t,
        'outbox_events',
        `message_id = $1 and coalesce((data->>'withheld')::boolean, false) = $2`,
        [messageId, withheld],
      );
    // An ordinary message goes to every consumer (notifications, webhooks, streams) …
    expect([await outbox(b3.id, false), await outbox(b3.id, true)]).toEqual([1, 0]);
    await block(t, alice, bob);
    const w1 = await sent(t, bob, threadId, 'w1');
    // … a withheld one, and its deletion, only to the sender's streams (the relay routes on the
    // mark: test/webhooks and test/notifications check that nothing goes out).
    expect((await deleteMessage(t, bob, threadId, w1.id)).status).toBe(204);
    expect([await outbox(w1.id, false), await outbox(w1.id, true)]).toEqual([0, 2]);
    await unblock(t, alice, bob);
    expect([await outbox(w1.id, false), await outbox(w1.id, true)]).toEqual([0, 2]);
  });

  it('keeps Alice’s messages visible to Bob and Bob’s own view unchanged', async () => {
    const { alice, bob, threadId } = await conversation();
    const bobBefore = await allMessages(t, bob, threadId);
    const bobListBefore = await listedThread(t, bob, threadId);
    await block(t, alice, bob);
    expect(await allMessages(t, bob, threadId)).toEqual(bobBefore);
    expect(await listedThread(t, bob, threadId)).toEqual(bobListBefore);
    const w1 = await sent(t, bob, threadId, 'w1');
    const after = await allMessages(t, bob, threadId);
    expect(after).toEqual([...bobBefore, w1]);
    expect(await listedThread(t, bob, threadId)).toEqual({
      ...bobListBefore,
      lastMessage: w1,
      lastMessageAt: w1.createdAt,
      unreadCount: 0,
    });
    expect(await unread(t, bob)).toEqual({ total: 0, threads: 0 });
  });
});

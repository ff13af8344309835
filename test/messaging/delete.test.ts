import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  ISO,
  allMessages,
  countRows,
  deleteMessage,
  expectProblem,
  listedThread,
  newThread,
  sent,
  sendMany,
  unread,
  viewThread,
  withoutInstance,
  pair as makePair,
} from '../support/factories';

describe('soft delete', () => {
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

  it('lets the sender delete (204, again 204), leaving a tombstone everywhere', async () => {
    const { alice, bob, threadId } = await pair();
    const [first, second] = await sendMany(t, alice, threadId, 2);
    const res = await deleteMessage(t, alice, threadId, second.id);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    const tombstone = {
      ...second,
      body: null,
      deleted: true,
      deletedAt: expect.stringMatching(ISO),
    };
    for (const viewer of [alice, bob]) {
      const messages = await allMessages(t, viewer, threadId);
      expect(messages.map((m) => m.id)).toEqual([first.id, second.id]);
      expect(messages[0].body).toBe(first.body);
      expect(messages[1]).toEqual(
        viewer === alice ? tombstone : { ...tombstone, clientMessageId: null },
      );
      expect((await listedThread(t, viewer, threadId))!.lastMessage).toEqual(messages[1]);
      expect((await viewThread(t, viewer, threadId)).body.thread.lastMessage).toEqual(messages[1]);
    }
    const deletedAt = (await allMessages(t, bob, threadId))[1].deletedAt!;
    expect(Date.parse(deletedAt)).toBeGreaterThanOrEqual(Date.parse(second.createdAt));

    const again = await deleteMessage(t, alice, threadId, second.id);
    expect(again.status).toBe(204);
    // A repeat keeps the original deletion time.
    expect((await allMessages(t, bob, threadId))[1].deletedAt).toBe(deletedAt);
    expect(
      await countRows(t, 'outbox_events', `type = 'message.deleted' and message_id = $1`, [
        second.id,
      ]),
    ).toBe(1);
  });

  it('refuses the other participant with 403 not-message-sender and keeps the message', async () => {
    const { alice, bob, threadId } = await pair();
    const message = await sent(t, alice, threadId, 'mine, not yours');
    const res = await deleteMessage(t, bob, threadId, message.id);
    expectProblem(res, 403, 'not-message-sender');
    const [kept] = await allMessages(t, alice, threadId);
    expect(kept).toEqual(expect.objectContaining({ body: 'mine, not yours', deleted: false }));
  });

  it('answers 404 for a message that is unknown, in another thread, or in a thread you are not in', async () => {
    const { alice, bob, threadId } = await pair();
    const mine = await sent(t, alice, threadId, 'here');
    const elsewhere = await newThread(t, alice, await t.createMember(org), 'elsewhere');
    const outsider = await t.createMember(org);
    const stranger = await t.createMember(t.createOrg());

    const unknown = await deleteMessage(t, alice, threadId, randomUUID());
    expectProblem(unknown, 404, 'not-found');
    const wrongThread = await deleteMessage(t, alice, threadId, elsewhere.message!.id);
    expect(withoutInstance(wrongThread)).toEqual(withoutInstance(unknown));
    // Bob cannot see the other thread's message: 404, not 403.
    const notVisible = await deleteMessage(t, bob, elsewhere.thread.id, elsewhere.message!.id);
    expect(withoutInstance(notVisible)).toEqual(withoutInstance(unknown));
    const unknownAsOutsider = await deleteMessage(t, outsider, randomUUID(), randomUUID());
    for (const who of [outsider, stranger]) {
      const res = await deleteMessage(t, who, threadId, mine.id);
      expect(withoutInstance(res)).toEqual(withoutInstance(unknownAsOutsider));
    }
    expect((await allMessages(t, alice, threadId))[0].deleted).toBe(false);
    expectProblem(await deleteMessage(t, alice, threadId, 'nope'), 400, 'validation-failed');
  });

  it('stops a deleted message from counting as unread', async () => {
    const { alice, bob, threadId } = await pair();
    const [, second, third] = await sendMany(t, alice, threadId, 3);
    expect(await unread(t, bob)).toEqual({ total: 3, threads: 1 });
    await deleteMessage(t, alice, threadId, second.id);
    expect(await unread(t, bob)).toEqual({ total: 2, threads: 1 });
    expect((await listedThread(t, bob, threadId))!.unreadCount).toBe(2);
    await deleteMessage(t, alice, threadId, second.id);
    expect(await unread(t, bob)).toEqual({ total: 2, threads: 1 });
    await deleteMessage(t, alice, threadId, third.id);
    expect(await unread(t, bob)).toEqual({ total: 1, threads: 1 });
  });
});

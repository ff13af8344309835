import { startTestApp, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  allMessages,
  allThreads,
  block,
  newThread,
  pageOf,
  sent,
  unblock,
  unread,
  type MessageJson,
} from '../support/factories';

describe('blocking: pages and counts stay whole (AC-3)', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  const fromSender = (messages: MessageJson[], who: Member) =>
    messages.filter((m) => m.sender.userId === who.userId);
  const ascending = (messages: MessageJson[]) =>
    messages.every((m, i) => i === 0 || messages[i - 1].seq < m.seq);

  it('fills a page of 50 with 50 visible messages when more exist', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread } = await newThread(t, alice, bob);
    const threadId = thread.id;
    for (let i = 0; i < 60; i++) {
      await sent(t, alice, threadId, `a${i}`);
      await sent(t, bob, threadId, `b${i}`);
    }

    // While blocked, Bob's messages (every other one) are hidden from Alice.
    await block(t, alice, bob);
    const latest = await pageOf(t, alice, threadId);
    expect(latest.data).toHaveLength(50);
    expect(fromSender(latest.data, alice)).toHaveLength(50);
    expect(ascending(latest.data)).toBe(true);
    expect(latest.nextCursor).toBe(latest.data[0].id);
    const older = await pageOf(t, alice, threadId, { before: latest.nextCursor! });
    expect(older.data.map((m) => m.body)).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}`));
    expect(older.nextCursor).toBeNull();
    const forward = await pageOf(t, alice, threadId, { after: older.data[0].id, limit: 50 });
    expect(forward.data.map((m) => m.body)).toEqual(
      Array.from({ length: 50 }, (_, i) => `a${i + 1}`),
    );
    const hundred = await pageOf(t, alice, threadId, { limit: 100 });
    expect([hundred.data.length, hundred.nextCursor]).toEqual([60, null]);

    // Withheld messages in between do not shrink pages either.
    const withheld = new Set<string>();
    for (let i = 0; i < 40; i++) withheld.add((await sent(t, bob, threadId, `w${i}`)).id);
    await unblock(t, alice, bob);
    for (let i = 60; i < 75; i++) {
      await sent(t, alice, threadId, `a${i}`);
      await sent(t, bob, threadId, `b${i}`);
    }
    const page = await pageOf(t, alice, threadId);
    expect(page.data).toHaveLength(50);
    expect(page.data.filter((m) => withheld.has(m.id))).toEqual([]);
    expect(ascending(page.data)).toBe(true);
    expect(page.data[0].body).toBe('a50');
    expect(page.nextCursor).toBe(page.data[0].id);
    const everything = await allMessages(t, alice, threadId, 50);
    expect(everything).toHaveLength(150);
    expect(everything.filter((m) => withheld.has(m.id))).toEqual([]);
    expect(ascending(everything)).toBe(true);
    // Bob still has all 190 of the thread's messages.
    expect(await allMessages(t, bob, threadId)).toHaveLength(190);
  });

  it('leaves the blocker’s unread count and thread list untouched by withheld messages', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const carol = await t.createMember(org);
    const withBob = (await newThread(t, bob, alice)).thread.id;
    const withCarol = (await newThread(t, carol, alice, 'c1')).thread.id;
    const b1 = await sent(t, bob, withBob, 'b1');
    expect((await allThreads(t, alice)).map((x) => x.id)).toEqual([withBob, withCarol]);
    expect(await unread(t, alice)).toEqual({ total: 2, threads: 2 });

    // While blocked, Bob's thread is empty for Alice: it falls back to its creation time.
    await block(t, alice, bob);
    const list = await allThreads(t, alice);
    const counts = await unread(t, alice);
    expect(counts).toEqual({ total: 1, threads: 1 });
    expect(list.map((x) => [x.id, x.lastMessage?.body ?? null, x.unreadCount])).toEqual([
      [withCarol, 'c1', 1],
      [withBob, null, 0],
    ]);

    for (let i = 0; i < 5; i++) await sent(t, bob, withBob, `w${i}`);
    expect(await allThreads(t, alice)).toEqual(list);
    expect(await unread(t, alice)).toEqual(counts);

    const c2 = await sent(t, carol, withCarol, 'c2');
    expect((await allThreads(t, alice)).map((x) => x.id)).toEqual([withCarol, withBob]);

    await unblock(t, alice, bob);
    expect(await unread(t, alice)).toEqual({ total: 3, threads: 2 });
    const after = await allThreads(t, alice);
    expect(after.map((x) => [x.id, x.lastMessage?.body, x.lastMessageAt, x.unreadCount])).toEqual([
      [withCarol, 'c2', c2.createdAt, 2],
      [withBob, 'b1', b1.createdAt, 1],
    ]);
  });
});

import { startTestApp, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  ISO,
  allThreads,
  deleteMessage,
  expectProblem,
  listThreads,
  listedThread,
  markRead,
  newThread,
  sendMany,
  sent,
  summaryOf,
  unread,
  type PageJson,
  type ThreadJson,
} from '../support/factories';

describe('unread counts and the thread list', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  const unreadIn = async (viewer: Member, threadId: string) =>
    (await listedThread(t, viewer, threadId))!.unreadCount;

  it('counts others’ unread, visible, not deleted messages through reads, deletes and new messages', async () => {
    const bob = await t.createMember(org);
    const alice = await t.createMember(org);
    const carol = await t.createMember(org);
    expect(await unread(t, bob)).toEqual({ total: 0, threads: 0 });

    const withAlice = (await newThread(t, alice, bob)).thread.id;
    const withCarol = (await newThread(t, carol, bob)).thread.id;
    const [a1, a2, a3] = await sendMany(t, alice, withAlice, 3, 'a');
    await sendMany(t, carol, withCarol, 2, 'c');
    expect(await unread(t, bob)).toEqual({ total: 5, threads: 2 });
    expect(await unread(t, alice)).toEqual({ total: 0, threads: 0 });
    expect([await unreadIn(bob, withAlice), await unreadIn(bob, withCarol)]).toEqual([3, 2]);

    await markRead(t, bob, withAlice, a2.id);
    expect(await unread(t, bob)).toEqual({ total: 3, threads: 2 });
    expect(await unreadIn(bob, withAlice)).toBe(1);

    // Deleting a read message changes nothing; deleting an unread one removes it.
    await deleteMessage(t, alice, withAlice, a1.id);
    expect(await unread(t, bob)).toEqual({ total: 3, threads: 2 });
    await deleteMessage(t, alice, withAlice, a3.id);
    expect(await unread(t, bob)).toEqual({ total: 2, threads: 1 });
    expect(await unreadIn(bob, withAlice)).toBe(0);

    // Bob's own messages never count; a new one from Alice does.
    await sent(t, bob, withCarol, 'my reply');
    expect(await unread(t, bob)).toEqual({ total: 0, threads: 0 });
    expect(await unread(t, carol)).toEqual({ total: 1, threads: 1 });
    await sent(t, alice, withAlice, 'a 4');
    expect(await unread(t, bob)).toEqual({ total: 1, threads: 1 });
    await markRead(t, bob, withAlice);
    expect(await unread(t, bob)).toEqual({ total: 0, threads: 0 });

    // A deleted message past the pointer is not counted when reading recomputes either.
    const a5 = await sent(t, alice, withAlice, 'a 5');
    await sent(t, alice, withAlice, 'a 6');
    await deleteMessage(t, alice, withAlice, a5.id);
    expect(await unread(t, bob)).toEqual({ total: 1, threads: 1 });
    await sent(t, carol, withCarol, 'c 3');
    expect(await unread(t, bob)).toEqual({ total: 2, threads: 2 });
    // Carol's own send read Bob's reply.
    expect(await unread(t, carol)).toEqual({ total: 0, threads: 0 });
  });

  it('lists threads in the documented shape, newest activity first, falling back to creation', async () => {
    const me = await t.createMember(org);
    const [x, y, z] = [
      await t.createMember(org),
      await t.createMember(org),
      await t.createMember(org),
    ];
    const tx = (await newThread(t, me, x)).thread;
    const ty = (await newThread(t, y, me)).thread;
    const tz = (await newThread(t, me, z)).thread;
    const order = async () => (await allThreads(t, me)).map((th) => th.id);
    expect(await order()).toEqual([tz.id, ty.id, tx.id]);

    const mx = await sent(t, x, tx.id, 'from x');
    expect(await order()).toEqual([tx.id, tz.id, ty.id]);
    await sent(t, me, ty.id, 'to y');
    expect(await order()).toEqual([ty.id, tx.id, tz.id]);

    const list = await allThreads(t, me);
    expect(list[1]).toEqual({
      id: tx.id,
      kind: 'direct',
      participants: [summaryOf(me), summaryOf(x)],
      lastMessage: mx,
      lastMessageAt: mx.createdAt,
      unreadCount: 1,
      createdAt: tx.createdAt,
    });
    expect(list[2]).toEqual(
      expect.objectContaining({ id: tz.id, lastMessage: null, lastMessageAt: null }),
    );
    expect(list[2].createdAt).toMatch(ISO);
    // The other side's list shows the thread from their side.
    expect((await allThreads(t, x))[0].participants).toEqual([summaryOf(x), summaryOf(me)]);
  });

  it('paginates with cursors: no duplicates, no gaps, the same order as one page', async () => {
    const me = await t.createMember(org);
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const other = await t.createMember(org);
      const { thread } = await newThread(t, other, me, i % 3 ? `hello ${i}` : undefined);
      ids.push(thread.id);
    }
    const whole = (await listThreads(t, me, { limit: 100 })).body as PageJson<ThreadJson>;
    expect(whole.nextCursor).toBeNull();
    expect(whole.data).toHaveLength(25);
    expect(new Set(whole.data.map((th) => th.id))).toEqual(new Set(ids));

    const defaultPage = (await listThreads(t, me)).body as PageJson<ThreadJson>;
    expect(defaultPage.data).toHaveLength(20);
    expect(defaultPage.nextCursor).toEqual(expect.any(String));

    const walked: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await listThreads(t, me, cursor ? { limit: 10, cursor } : { limit: 10 });
      expect(res.status).toBe(200);
      const page = res.body as PageJson<ThreadJson>;
      sizes.push(page.data.length);
      walked.push(...page.data.map((th) => th.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([10, 10, 5]);
    expect(walked).toEqual(whole.data.map((th) => th.id));

    // Exactly a page: no cursor.
    const exact = (await listThreads(t, me, { limit: 25 })).body as PageJson<ThreadJson>;
    expect(exact.nextCursor).toBeNull();
  });

  it('refuses bad list queries with 400', async () => {
    const me = await t.createMember(org);
    const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const bad: Record<string, string | number>[] = [
      { limit: 0 },
      { limit: 101 },
      { limit: 'abc' },
      { cursor: '!!!' },
      { cursor: 'abc' },
      { cursor: cursorOf({ a: 1 }) },
      { cursor: cursorOf(['yesterday', 'x']) },
      { cursor: cursorOf([new Date().toISOString()]) },
    ];
    for (const query of bad) {
      const res = await listThreads(t, me, query);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expectProblem(await listThreads(t, me, { limit: 101 }), 400, 'validation-failed');
    expect((await t.http().get('/api/v1/messages/unread-count')).status).toBe(401);
  });
});

import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  allMessages,
  allThreads,
  block,
  countRows,
  directory,
  expectProblem,
  newThread,
  send,
  startThread,
  summaryOf,
  unblock,
  unread,
  withoutInstance,
} from '../support/factories';

describe('blocking: the directory and new threads (AC-3)', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  it('removes the blocker from a blocked resident’s directory, and only theirs', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const carol = await t.createMember(org);
    expect(await directory(t, bob)).toContain(alice.userId);
    await block(t, alice, bob);
    expect(await directory(t, bob)).not.toContain(alice.userId);
    expect(await directory(t, bob, alice.displayName)).toEqual([]);
    expect(await directory(t, carol)).toContain(alice.userId);
    // The blocker keeps the blocked member (so she can unblock).
    expect(await directory(t, alice)).toContain(bob.userId);
    await unblock(t, alice, bob);
    expect(await directory(t, bob)).toContain(alice.userId);
  });

  it('answers a blocked resident starting a new thread with the blocker like an unknown member (404)', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    await block(t, alice, bob);
    const unknown = await startThread(t, bob, randomUUID(), { body: 'hi' });
    const refused = await startThread(t, bob, alice, { body: 'hi' });
    expectProblem(refused, 404, 'not-found');
    expect(withoutInstance(refused)).toEqual(withoutInstance(unknown));
    expect(refused.headers['content-length']).toBe(unknown.headers['content-length']);
    expect(await allThreads(t, bob)).toEqual([]);
    expect(await allThreads(t, alice)).toEqual([]);
    expect(await countRows(t, 'message_threads', '$1 in (user_low, user_high)', [bob.userId])).toBe(
      0,
    );
  });

  it.each(['manager', 'org_admin'] as const)(
    'lets a blocked %s start a thread as usual (201), withholding it from the blocker',
    async (role) => {
      const alice = await t.createMember(org);
      const staff = await t.createMember(org, { role });
      await block(t, alice, staff);
      // A blocker looks like a hidden member, which staff do see.
      expect(await directory(t, staff)).toContain(alice.userId);
      const res = await startThread(t, staff, alice, { body: 'about your parcel' });
      expect(res.status).toBe(201);
      expect(res.body.thread.participants).toEqual([summaryOf(staff), summaryOf(alice)]);
      expect(res.body.message).toEqual(
        expect.objectContaining({ seq: 1, body: 'about your parcel', seenBy: [] }),
      );
      const threadId = res.body.thread.id as string;
      expect((await send(t, staff, threadId, 'second')).status).toBe(201);
      expect((await allMessages(t, staff, threadId)).map((m) => m.body)).toEqual([
        'about your parcel',
        'second',
      ]);
      // Alice sees nothing of it.
      expect((await allThreads(t, alice)).map((x) => x.id)).not.toContain(threadId);
      expect(await unread(t, alice)).toEqual({ total: 0, threads: 0 });
      // Withheld for good.
      await unblock(t, alice, staff);
      expect(await unread(t, alice)).toEqual({ total: 0, threads: 0 });
      const listed = (await allThreads(t, alice)).find((x) => x.id === threadId);
      expect(listed?.lastMessage ?? null).toBeNull();
    },
  );

  it('lets an existing thread go on, with the blocked resident’s messages withheld', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread } = await newThread(t, alice, bob, 'hello Bob');
    await block(t, alice, bob);
    const again = await startThread(t, bob, alice, { body: 'hello again' });
    expect(again.status).toBe(200);
    expect(again.body.thread.id).toBe(thread.id);
    expect(again.body.message).toEqual(expect.objectContaining({ seq: 2, body: 'hello again' }));
    expect((await send(t, bob, thread.id, 'anyone?')).status).toBe(201);
    expect((await allMessages(t, bob, thread.id)).map((m) => m.body)).toEqual([
      'hello Bob',
      'hello again',
      'anyone?',
    ]);
    expect((await allMessages(t, alice, thread.id)).map((m) => m.body)).toEqual(['hello Bob']);
    expect(await unread(t, alice)).toEqual({ total: 0, threads: 0 });
  });

  it('refuses the blocker starting a thread with the blocked member (409 blocked-by-you)', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org, { role: 'manager' });
    await block(t, alice, bob);
    expectProblem(await startThread(t, alice, bob), 409, 'blocked-by-you');
    expect(await allThreads(t, alice)).toEqual([]);
    await unblock(t, alice, bob);
    expect((await startThread(t, alice, bob)).status).toBe(201);
  });
});

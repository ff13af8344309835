import { randomUUID } from 'node:crypto';
import { startTestApp, bearer, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  API,
  ISO,
  block,
  countRows,
  deactivate,
  delay,
  expectProblem,
  startThread,
  summaryOf,
  unblock,
  updateSettings,
  withoutInstance,
  type PageJson,
} from '../support/factories';

interface BlockedJson {
  blockedUserId: string;
  createdAt: string;
  user: { userId: string; displayName: string; role: string };
}

describe('block, unblock and the block list', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  const blocked = (who: Member, query: Record<string, string | number> = {}) =>
    t.http().get(`${API}/messages/users/blocked`).query(query).set(bearer(who));

  it('blocks (201), answers a repeat with the original createdAt (200), and lists it', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org, { role: 'manager' });
    const first = await block(t, alice, bob);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      blockedUserId: bob.userId,
      createdAt: expect.stringMatching(ISO),
    });
    await delay(10);
    const again = await block(t, alice, bob);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const upper = await block(t, alice, bob.userId.toUpperCase());
    expect([upper.status, upper.body]).toEqual([200, first.body]);

    const list = await blocked(alice);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      data: [{ blockedUserId: bob.userId, createdAt: first.body.createdAt, user: summaryOf(bob) }],
      nextCursor: null,
    });
    // Private to the blocker.
    expect((await blocked(bob)).body).toEqual({ data: [], nextCursor: null });
  });

  it('unblocks (204) whether or not a block exists; a new block gets a new createdAt', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const never = await t.createMember(org);
    const first = await block(t, alice, bob);
    const res = await unblock(t, alice, bob);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await blocked(alice)).body.data).toEqual([]);
    expect((await unblock(t, alice, bob)).status).toBe(204);
    expect((await unblock(t, alice, never)).status).toBe(204);

    await delay(10);
    const reblock = await block(t, alice, bob);
    expect(reblock.status).toBe(201);
    expect(Date.parse(reblock.body.createdAt as string)).toBeGreaterThan(
      Date.parse(first.body.createdAt as string),
    );
  });

  it('lists blocks newest first with cursors', async () => {
    const alice = await t.createMember(org);
    const others: Member[] = [];
    for (let i = 0; i < 5; i++) {
      const other = await t.createMember(org);
      expect((await block(t, alice, other)).status).toBe(201);
      others.push(other);
    }
    const walked: BlockedJson[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await blocked(alice, cursor ? { limit: 2, cursor } : { limit: 2 });
      expect(res.status).toBe(200);
      const page = res.body as PageJson<BlockedJson>;
      sizes.push(page.data.length);
      walked.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([2, 2, 1]);
    expect(walked.map((b) => b.blockedUserId)).toEqual(others.map((o) => o.userId).reverse());
    expect(walked.map((b) => b.user)).toEqual(others.map(summaryOf).reverse());
    const bad: Record<string, string | number>[] = [
      { limit: 0 },
      { limit: 101 },
      { cursor: '***' },
      { cursor: 'e30' },
    ];
    for (const query of bad) {
      expect((await blocked(alice, query)).status).toBe(400);
    }
  });

  it('refuses blocking yourself (400)', async () => {
    const alice = await t.createMember(org);
    expectProblem(await block(t, alice, alice), 400, 'bad-request');
    expectProblem(await unblock(t, alice, alice), 400, 'bad-request');
    expectProblem(await block(t, alice, alice.userId.toUpperCase()), 400, 'bad-request');
    expect((await blocked(alice)).body.data).toEqual([]);
  });

  it('answers an unknown user and a member of another org with the same 404', async () => {
    const alice = await t.createMember(org);
    const stranger = await t.createMember(t.createOrg());
    for (const action of [block, unblock]) {
      const unknown = await action(t, alice, randomUUID());
      expectProblem(unknown, 404, 'not-found');
      const otherOrg = await action(t, alice, stranger);
      expect(withoutInstance(otherOrg)).toEqual(withoutInstance(unknown));
    }
    expect((await blocked(alice)).body.data).toEqual([]);
    expectProblem(await block(t, alice, 'not-a-uuid'), 400, 'validation-failed');
  });

  it('answers a resident for a member hidden from them (hidden, deactivated, or blocking them) exactly like an unknown id, on block, unblock and the list', async () => {
    const alice = await t.createMember(org);
    const hidden = await t.createMember(org, { visibility: 'hidden', displayName: 'Hidden Hal' });
    const gone = await t.createMember(org, { displayName: 'Gone Gus' });
    await deactivate(t, gone);
    const blocker = await t.createMember(org, { displayName: 'Blocking Bea' });
    expect((await block(t, blocker, alice)).status).toBe(201);

    for (const action of [block, unblock]) {
      const unknown = await action(t, alice, randomUUID());
      expectProblem(unknown, 404, 'not-found');
      for (const target of [hidden, gone, blocker]) {
        const res = await action(t, alice, target);
        expect({ target: target.displayName, res: withoutInstance(res) }).toEqual({
          target: target.displayName,
          res: withoutInstance(unknown),
        });
      }
    }
    expect((await blocked(alice)).body.data).toEqual([]);
    expect(await countRows(t, 'user_blocks', 'blocker_id = $1', [alice.userId])).toBe(0);
  });

  it('lets managers and org admins block hidden members (they see them), and anyone block a member they share a thread with, hidden or not', async () => {
    const manager = await t.createMember(org, { role: 'manager' });
    const hidden = await t.createMember(org, { visibility: 'hidden' });
    expect((await block(t, manager, hidden)).status).toBe(201);

    // Someone who wrote to you and turned hidden afterwards can still be blocked.
    const alice = await t.createMember(org);
    const pest = await t.createMember(org);
    expect((await startThread(t, pest, alice, { body: 'hi' })).status).toBe(201);
    expect((await updateSettings(t, pest, { visibility: 'hidden' })).status).toBe(200);
    expect((await block(t, alice, pest)).status).toBe(201);
    expect((await blocked(alice)).body.data.map((b: BlockedJson) => b.blockedUserId)).toEqual([
      pest.userId,
    ]);
    // And an existing block stays the blocker's to remove, whatever became of the member.
    await deactivate(t, pest);
    expect((await unblock(t, alice, pest)).status).toBe(204);
  });

  it('refuses unknown body fields (400) and changes nothing', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const res = await t
      .http()
      .post(`${API}/messages/users/${bob.userId}/block`)
      .set(bearer(alice))
      .send({ reason: 'spam', notify: true });
    expectProblem(res, 400, 'validation-failed');
    expect((await blocked(alice)).body.data).toEqual([]);

    expect((await block(t, alice, bob)).status).toBe(201);
    const unblockWithBody = await t
      .http()
      .delete(`${API}/messages/users/${bob.userId}/block`)
      .set(bearer(alice))
      .send({ reason: 'changed my mind' });
    expectProblem(unblockWithBody, 400, 'validation-failed');
    expect((await blocked(alice)).body.data).toHaveLength(1);
  });

  it('emits no event about a block', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    await block(t, alice, bob);
    await unblock(t, alice, bob);
    await block(t, alice, bob);
    expect(
      await countRows(t, 'outbox_events', 'actor_id = $1 or actor_id = $2', [
        alice.userId,
        bob.userId,
      ]),
    ).toBe(0);
  });
});

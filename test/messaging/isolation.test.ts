import { randomUUID } from 'node:crypto';
import { startTestApp, bearer, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  API,
  allMessages,
  allThreads,
  countRows,
  expectProblem,
  newThread,
  sent,
  unread,
  withoutInstance,
  type Res,
} from '../support/factories';

/** Every thread route, for a thread id and a message id. */
const ROUTES: [
  name: string,
  call: (t: TestApp, who: Member, thread: string, message: string) => Promise<Res>,
][] = [
  ['GET thread', (t, who, th) => t.http().get(`${API}/messages/threads/${th}`).set(bearer(who))],
  [
    'GET messages',
    (t, who, th) => t.http().get(`${API}/messages/threads/${th}/messages`).set(bearer(who)),
  ],
  [
    'GET messages after',
    (t, who, th, m) =>
      t.http().get(`${API}/messages/threads/${th}/messages`).query({ after: m }).set(bearer(who)),
  ],
  [
    'POST message',
    (t, who, th) =>
      t
        .http()
        .post(`${API}/messages/threads/${th}/messages`)
        .set(bearer(who))
        .send({ body: 'let me in' }),
  ],
  [
    'POST message with key',
    (t, who, th) =>
      t
        .http()
        .post(`${API}/messages/threads/${th}/messages`)
        .set(bearer(who))
        .send({ body: 'let me in', clientMessageId: 'k-1' }),
  ],
  [
    'DELETE message',
    (t, who, th, m) =>
      t.http().delete(`${API}/messages/threads/${th}/messages/${m}`).set(bearer(who)),
  ],
  [
    'POST read',
    (t, who, th) => t.http().post(`${API}/messages/threads/${th}/read`).set(bearer(who)).send({}),
  ],
  [
    'POST read up to',
    (t, who, th, m) =>
      t
        .http()
        .post(`${API}/messages/threads/${th}/read`)
        .set(bearer(who))
        .send({ upToMessageId: m }),
  ],
];

describe('threads are private to their participants', () => {
  let t: TestApp;
  let alice: Member;
  let bob: Member;
  let threadId: string;
  let messageId: string;
  let outsiders: Record<string, Member>;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
    });
    const org = t.createOrg();
    alice = await t.createMember(org);
    bob = await t.createMember(org);
    const started = await newThread(t, alice, bob, 'private words');
    threadId = started.thread.id;
    messageId = (await sent(t, bob, threadId, 'private reply')).id;
    outsiders = {
      resident: await t.createMember(org),
      manager: await t.createMember(org, { role: 'manager' }),
      'org admin': await t.createMember(org, { role: 'org_admin' }),
      'member of another org': await t.createMember(t.createOrg(), { role: 'org_admin' }),
    };
  });
  afterAll(() => t.close());

  describe.each(ROUTES)('%s', (_name, call) => {
    it.each(['resident', 'manager', 'org admin', 'member of another org'])(
      'answers a %s exactly as for an unknown thread (404)',
      async (who) => {
        const outsider = outsiders[who];
        const unknown = await call(t, outsider, randomUUID(), randomUUID());
        expectProblem(unknown, 404, 'not-found');
        const refused = await call(t, outsider, threadId, messageId);
        expect(withoutInstance(refused)).toEqual(withoutInstance(unknown));
        expect(refused.body.instance).toMatch(new RegExp(`^${API}/messages/threads/${threadId}`));
      },
    );
  });

  it('lets nothing through: no message, read or delete was written, nothing listed or counted', async () => {
    expect(await countRows(t, 'messages', 'thread_id = $1', [threadId])).toBe(2);
    expect(
      await countRows(t, 'message_reads', 'thread_id = $1 and reader_id not in ($2, $3)', [
        threadId,
        alice.userId,
        bob.userId,
      ]),
    ).toBe(0);
    expect((await allMessages(t, alice, threadId)).map((m) => [m.body, m.deleted])).toEqual([
      ['private words', false],
      ['private reply', false],
    ]);
    for (const outsider of Object.values(outsiders)) {
      expect(await allThreads(t, outsider)).toEqual([]);
      expect(await unread(t, outsider)).toEqual({ total: 0, threads: 0 });
    }
  });

  it('keeps a member’s threads out of their membership in another org', async () => {
    const otherOrg = t.createOrg();
    const elsewhere: Member = {
      orgId: otherOrg,
      userId: alice.userId,
      role: 'resident',
      displayName: 'Alice elsewhere',
      token: t.tokenFor({
        sub: alice.userId,
        orgId: otherOrg,
        role: 'resident',
        name: 'Alice elsewhere',
      }),
    };
    expect((await t.http().get(`${API}/me`).set(bearer(elsewhere))).body.orgId).toBe(otherOrg);
    expect(await allThreads(t, elsewhere)).toEqual([]);
    expect(await unread(t, elsewhere)).toEqual({ total: 0, threads: 0 });
    for (const [name, call] of ROUTES) {
      const unknown = await call(t, elsewhere, randomUUID(), randomUUID());
      const refused = await call(t, elsewhere, threadId, messageId);
      expect({ name, ...withoutInstance(refused) }).toEqual({ name, ...withoutInstance(unknown) });
    }
    expect(await countRows(t, 'messages', 'thread_id = $1', [threadId])).toBe(2);
  });

  it('answers malformed ids with 400', async () => {
    for (const [name, call] of ROUTES) {
      const res = await call(t, alice, 'not-a-uuid', messageId);
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
    }
    const badMessage = await t
      .http()
      .delete(`${API}/messages/threads/${threadId}/messages/123`)
      .set(bearer(bob));
    expectProblem(badMessage, 400, 'validation-failed');
  });
});

import { startTestApp, bearer, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  API,
  block,
  deleteMessage,
  getPage,
  listThreads,
  markRead,
  recipients,
  send,
  startThread,
  updateSettings,
  viewThread,
  type Res,
} from '../support/factories';
import { Normaliser } from '../support/normalise';

interface Recorded {
  step: string;
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
}

/** Headers that differ between any two requests (dates, request ids, validators). */
const VOLATILE_HEADERS = new Set(['date', 'x-request-id', 'etag', 'last-modified']);

/**
 * Records what a member receives, normalised (ids, timestamps), so that two runs in two orgs
 * compare equal when they say the same.
 */
class Recorder {
  readonly log: Recorded[] = [];
  private readonly normaliser = new Normaliser();

  async record(step: string, request: PromiseLike<Res>): Promise<Res> {
    const res = await request;
    const headers: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(res.headers as Record<string, unknown>)) {
      if (!VOLATILE_HEADERS.has(name)) headers[name] = this.normalise(value);
    }
    this.log.push({
      step,
      status: res.status,
      headers,
      body: this.normalise(res.text ? (res.body as unknown) : ''),
    });
    return res;
  }

  private normalise(value: unknown): unknown {
    return this.normaliser.normalise(value);
  }
}

describe('nothing Bob receives reveals that Alice blocks him (AC-3)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
    });
  });
  afterAll(() => t.close());

  const people = async (bobRole: Member['role'] = 'resident') => {
    const org = t.createOrg();
    return {
      alice: await t.createMember(org, { displayName: 'Alice Martin' }),
      bob: await t.createMember(org, { displayName: 'Bob Stone', role: bobRole }),
      carol: await t.createMember(org, { displayName: 'Carol Hill' }),
    };
  };

  /** The same conversation in a fresh org; Alice blocks Bob halfway through, or does not. */
  async function conversation(aliceBlocksBob: boolean): Promise<Recorded[]> {
    const { alice, bob } = await people();
    const r = new Recorder();
    const started = await startThread(t, alice, bob, { body: 'Hello Bob' });
    const threadId = started.body.thread.id as string;
    const hello = started.body.message.id as string;
    await r.record('Bob reads', markRead(t, bob, threadId));
    await r.record('Bob replies', send(t, bob, threadId, 'Hi Alice'));
    await markRead(t, alice, threadId);

    if (aliceBlocksBob) expect((await block(t, alice, bob)).status).toBe(201);

    const first = await r.record(
      'Bob sends with a key',
      send(t, bob, threadId, 'Are you there?', { clientMessageId: 'bob-1' }),
    );
    const firstId = first.body.id as string;
    await r.record(
      'Bob repeats it',
      send(t, bob, threadId, 'Are you there?', { clientMessageId: 'bob-1' }),
    );
    await r.record(
      'Bob reuses the key',
      send(t, bob, threadId, 'Something else', { clientMessageId: 'bob-1' }),
    );
    const second = await r.record(
      'Bob sends with a header key',
      send(t, bob, threadId, 'Second try', { idempotencyKey: 'bob-2' }),
    );
    await r.record('Bob sends again', send(t, bob, threadId, 'Third'));
    await r.record('Bob views the thread', viewThread(t, bob, threadId));
    const page = await r.record('Bob pages', getPage(t, bob, threadId, { limit: 2 }));
    await r.record(
      'Bob pages back',
      getPage(t, bob, threadId, { limit: 2, before: page.body.nextCursor as string }),
    );
    await r.record('Bob polls', getPage(t, bob, threadId, { after: firstId }));
    await r.record('Bob polls from the start', getPage(t, bob, threadId, { after: hello }));
    await r.record('Bob lists threads', listThreads(t, bob));
    await r.record(
      'Bob counts unread',
      t.http().get(`${API}/messages/unread-count`).set(bearer(bob)),
    );
    await r.record('Bob reads to the end', markRead(t, bob, threadId));
    await r.record('Bob reads an older one', markRead(t, bob, threadId, hello));
    await r.record('Bob deletes', deleteMessage(t, bob, threadId, second.body.id as string));
    await r.record('Bob deletes again', deleteMessage(t, bob, threadId, second.body.id as string));
    await r.record('Bob deletes Alice’s', deleteMessage(t, bob, threadId, hello));
    await r.record(
      'Bob starts over',
      startThread(t, bob, alice, { body: 'Starting over', clientMessageId: 'bob-3' }),
    );
    await r.record('Bob starts over, no body', startThread(t, bob, alice));
    await r.record('Bob looks at himself', t.http().get(`${API}/me`).set(bearer(bob)));
    await r.record(
      'Bob looks at his blocks',
      t.http().get(`${API}/messages/users/blocked`).set(bearer(bob)),
    );
    await r.record('Bob views the thread again', viewThread(t, bob, threadId));
    await r.record('Bob lists threads again', listThreads(t, bob));
    await r.record(
      'Bob counts unread again',
      t.http().get(`${API}/messages/unread-count`).set(bearer(bob)),
    );
    return r.log;
  }

  it('gives Bob identical responses whether or not Alice blocks him', async () => {
    const plain = await conversation(false);
    const blocked = await conversation(true);
    expect(plain.map((x) => [x.step, x.status])).toEqual(
      expect.arrayContaining([
        ['Bob sends with a key', 201],
        ['Bob repeats it', 200],
        ['Bob reuses the key', 422],
        ['Bob deletes Alice’s', 403],
        ['Bob starts over', 200],
      ]),
    );
    for (let i = 0; i < plain.length; i++) expect(blocked[i]).toEqual(plain[i]);
    expect(blocked).toHaveLength(plain.length);
  });

  /** Alice either blocks Bob or turns hidden; Bob must not tell the two apart. */
  async function lookingForAlice(
    how: 'blocks' | 'hidden',
    bobRole: Member['role'],
  ): Promise<Recorded[]> {
    const { alice, bob, carol } = await people(bobRole);
    const r = new Recorder();
    // Carol had a thread with Alice before; she is blocked too (or sees Alice turn hidden).
    await startThread(t, carol, alice, { body: 'Hi Alice, Carol here' });
    if (how === 'blocks') {
      await block(t, alice, bob);
      await block(t, alice, carol);
    } else {
      expect((await updateSettings(t, alice, { visibility: 'hidden' })).status).toBe(200);
    }
    await r.record('Bob’s directory', recipients(t, bob));
    await r.record('Bob searches for Alice', recipients(t, bob, { q: 'alice' }));
    await r.record('Bob starts a thread with Alice', startThread(t, bob, alice, { body: 'Hi!' }));
    await r.record('Bob starts an empty thread with Alice', startThread(t, bob, alice));
    await r.record('Carol’s directory', recipients(t, carol));
    await r.record('Carol starts again', startThread(t, carol, alice, { body: 'Still there?' }));
    return r.log;
  }

  it.each(['resident', 'manager', 'org_admin'] as const)(
    'shows a blocked %s the blocker exactly as a member who turned hidden',
    async (role) => {
      const blocked = await lookingForAlice('blocks', role);
      const hidden = await lookingForAlice('hidden', role);
      expect(blocked).toEqual(hidden);
      const start = blocked.find((x) => x.step === 'Bob starts a thread with Alice')!;
      expect(start.status).toBe(role === 'resident' ? 404 : 201);
    },
  );
});

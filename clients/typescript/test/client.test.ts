import {
  createDevToken,
  createMessagingClient,
  listDemoMembers,
  ProblemError,
  type StreamEvent,
} from '../src/index.js';
import { listen } from '../../../test/support/sse';
import {
  startTestApp,
  UNTHROTTLED,
  type Member,
  type TestApp,
} from '../../../test/support/test-app';
import { eventually } from '../../../test/support/async';

/** Retries `assertion` until it holds (or 20 s pass, then fails with its last error). */
async function until(assertion: () => unknown): Promise<void> {
  let last: unknown;
  const held = await eventually(async () => {
    try {
      await assertion();
      return true;
    } catch (error) {
      last = error;
      return false;
    }
  }).catch(() => false);
  if (!held) throw last;
}

/** The typed client against the real service (PostgreSQL, Redis, the worker for the streams). */
describe('@resident-messaging/client', () => {
  let t: TestApp;
  let baseUrl: string;
  const clientOf = (m: Member, fetchImpl?: typeof fetch) =>
    createMessagingClient({ baseUrl, getToken: () => m.token, fetch: fetchImpl });

  beforeAll(async () => {
    t = await startTestApp({ ...UNTHROTTLED, WORKER_ENABLED: 'true', EVENTS_PING_MS: '300' });
    baseUrl = await listen(t);
  });
  afterAll(() => t.close());

  it('walks a conversation: start, send, page, read, unread, recipients, notifications', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org, { displayName: 'Alice Martin' });
    const bob = await t.createMember(org, { displayName: 'Bob Stone' });
    const a = clientOf(alice);
    const b = clientOf(bob);

    const recipients = await a.listRecipients({ q: 'bob' });
    expect(recipients.data.map((r) => r.displayName)).toEqual(['Bob Stone']);
    expect(recipients.nextCursor).toBeNull();

    const started = await a.startThread({ recipientId: bob.userId, body: 'Hello Bob' });
    expect(started.thread.participants.map((p) => p.userId).sort()).toEqual(
      [alice.userId, bob.userId].sort(),
    );
    expect(started.message?.body).toBe('Hello Bob');
    // A clientMessageId was generated, so that the send could be retried safely.
    expect(started.message?.clientMessageId).toEqual(expect.any(String));

    const threadId = started.thread.id;
    const reply = await b.sendMessage(threadId, { body: 'Hi Alice' });
    expect(reply).toMatchObject({ threadId, seq: 2, body: 'Hi Alice', deleted: false });
    expect(reply.sender.userId).toBe(bob.userId);

    const threads = await a.listThreads({ limit: 10 });
    expect(threads.data.map((x) => x.id)).toEqual([threadId]);
    expect(threads.data[0].unreadCount).toBe(1);
    expect(await a.getUnreadCount()).toEqual({ total: 1, threads: 1 });

    const view = await a.getThread(threadId);
    expect(view.messages.data.map((m) => m.body)).toEqual(['Hello Bob', 'Hi Alice']);
    const older = await a.listMessages(threadId, { before: reply.id });
    expect(older.data.map((m) => m.body)).toEqual(['Hello Bob']);
    const newer = await a.listMessages(threadId, { after: started.message!.id });
    expect(newer.data.map((m) => m.id)).toEqual([reply.id]);

    const read = await a.markRead(threadId);
    expect(read.lastReadMessageId).toBe(reply.id);
    expect(await a.getUnreadCount()).toEqual({ total: 0, threads: 0 });

    await a.deleteMessage(threadId, started.message!.id);
    const afterDelete = await b.listMessages(threadId);
    expect(afterDelete.data[0]).toMatchObject({ deleted: true, body: null });

    await until(async () => {
      const inbox = await b.listNotifications();
      expect(inbox.data.length).toBeGreaterThan(0);
    });
    const me = await a.getMe();
    expect(me).toMatchObject({ userId: alice.userId, displayName: 'Alice Martin' });
    const settings = await a.updateMySettings({ readReceipts: false });
    expect(settings.readReceipts).toBe(false);
  });

  it('blocks and unblocks, and lists the blocked', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org, { displayName: 'Bob Blocked' });
    const a = clientOf(alice);
    const block = await a.blockUser(bob.userId);
    expect(block.blockedUserId).toBe(bob.userId);
    // Idempotent: the same block again.
    expect((await a.blockUser(bob.userId)).createdAt).toBe(block.createdAt);
    const blocked = await a.listBlockedUsers();
    expect(blocked.data.map((u) => u.user.displayName)).toEqual(['Bob Blocked']);
    await a.unblockUser(bob.userId);
    await a.unblockUser(bob.userId);
    expect((await a.listBlockedUsers()).data).toEqual([]);
  });

  it('throws ProblemError with the problem details of a refused request', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const a = clientOf(alice);
    const notFound = await a
      .getThread('01890a5d-ac96-774b-bcce-b302099a8057')
      .catch((e: unknown) => e as ProblemError);
    expect(notFound).toBeInstanceOf(ProblemError);
    expect(notFound).toMatchObject({ status: 404, slug: 'not-found' });
    expect((notFound as ProblemError).detail).toEqual(expect.any(String));

    const invalid = await a
      .startThread({ recipientId: 'not-a-uuid', body: '' })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ProblemError);
    const problem = invalid as ProblemError;
    expect(problem.status).toBe(400);
    expect(problem.slug).toBe('validation-failed');
    expect(problem.errors?.map((e) => e.field)).toEqual(expect.arrayContaining(['recipientId']));

    const anonymous = createMessagingClient({ baseUrl, getToken: () => null });
    await expect(anonymous.getUnreadCount()).rejects.toMatchObject({ status: 401 });
  });

  it('repeats a send whose answer was lost without creating a second message', async () => {
    const { alice, bob, threadId } = await conversation();
    // The first answer is lost on the way back (the server did create the message).
    let lost = 0;
    const flaky: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (lost++ === 0 && (input as Request).method === 'POST') {
        throw new TypeError('network connection lost');
      }
      return response;
    };
    const a = clientOf(alice, flaky);
    const message = await a.sendMessage(threadId, { body: 'only once' });
    expect(lost).toBe(2);
    const page = await clientOf(bob).listMessages(threadId);
    expect(page.data.filter((m) => m.body === 'only once').map((m) => m.id)).toEqual([message.id]);
  });

  it('asks again with If-None-Match and answers an unchanged page from what it kept', async () => {
    const { alice, bob, threadId } = await conversation();
    const seen: { status: number; ifNoneMatch: string | null }[] = [];
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      seen.push({
        status: response.status,
        ifNoneMatch: (input as Request).headers.get('if-none-match'),
      });
      return response;
    };
    const b = clientOf(bob, recording);
    const first = await b.getThread(threadId);
    const again = await b.getThread(threadId);
    expect(again).toEqual(first);
    expect(seen.map((s) => s.status)).toEqual([200, 304]);
    expect(seen[1].ifNoneMatch).toMatch(/^"[A-Za-z0-9_-]{27}"$/);

    // A change on the server is a 200 with the new page.
    await clientOf(alice).sendMessage(threadId, { body: 'something new' });
    const changed = await b.getThread(threadId);
    expect(seen.at(-1)?.status).toBe(200);
    expect(changed.messages.data.at(-1)?.body).toBe('something new');

    // Another member's client never offers Bob's page; turned off, nothing is asked again.
    const plain = createMessagingClient({
      baseUrl,
      getToken: () => bob.token,
      fetch: recording,
      conditionalGets: 0,
    });
    await plain.getThread(threadId);
    await plain.getThread(threadId);
    expect(seen.slice(-2)).toEqual([
      { status: 200, ifNoneMatch: null },
      { status: 200, ifNoneMatch: null },
    ]);
  });

  it('waits for Retry-After on 429 and 503, then succeeds', async () => {
    const { alice } = await conversation();
    let calls = 0;
    const busy: typeof fetch = async (input, init) => {
      const status = [503, 429][calls++];
      if (status) {
        return new Response(
          JSON.stringify({ type: 'x/busy', title: 'Busy', status, detail: 'try again' }),
          { status, headers: { 'retry-after': '0', 'content-type': 'application/problem+json' } },
        );
      }
      return fetch(input, init);
    };
    expect(await clientOf(alice, busy).getUnreadCount()).toEqual({ total: 0, threads: 0 });
    expect(calls).toBe(3);
    // Past the retries, the 429 is the caller's.
    const always: typeof fetch = () =>
      Promise.resolve(
        new Response(
          JSON.stringify({
            type: 'x/too-many-requests',
            title: 'Too many',
            status: 429,
            detail: 'slow down',
          }),
          {
            status: 429,
            headers: { 'retry-after': '0', 'content-type': 'application/problem+json' },
          },
        ),
      );
    await expect(clientOf(alice, always).getUnreadCount()).rejects.toMatchObject({
      status: 429,
      retryAfter: 0,
    });
  });

  it('iterates the event stream, and resumes after a disconnect with exactly what was missed', async () => {
    const { alice, bob, threadId } = await conversation();
    const a = clientOf(alice);
    const b = clientOf(bob);
    const seen: StreamEvent[] = [];
    const first = new AbortController();
    const reading = (async () => {
      for await (const event of b.events({ signal: first.signal })) {
        seen.push(event);
        if (event.event === 'message.created') first.abort();
      }
    })();
    await until(() => expect(seen.map((e) => e.event)).toContain('unread.changed'));
    const one = await a.sendMessage(threadId, { body: 'one' });
    await reading;
    const created = seen.find((e) => e.event === 'message.created');
    expect(created?.event === 'message.created' && created.data.message.id).toBe(one.id);

    // Offline: two more messages.
    const two = await a.sendMessage(threadId, { body: 'two' });
    const three = await a.sendMessage(threadId, { body: 'three' });
    const resumed: StreamEvent[] = [];
    const second = new AbortController();
    const ids: string[] = [];
    for await (const event of b.events({ lastEventId: created!.id, signal: second.signal })) {
      resumed.push(event);
      if (event.event === 'message.created') ids.push(event.data.message.id);
      if (ids.length === 2) second.abort();
    }
    expect(ids).toEqual([two.id, three.id]);
    expect(resumed.map((e) => e.event)).not.toContain('reset');

    // An unknown id: reset first.
    const third = new AbortController();
    for await (const event of b.events({ lastEventId: 'zzz', signal: third.signal })) {
      expect(event.event).toBe('reset');
      third.abort();
    }
  });

  it('reconnects by itself when the connection drops, and misses nothing', async () => {
    const { alice, bob, threadId } = await conversation();
    const a = clientOf(alice);
    // The first connection is cut after its first event.
    let connections = 0;
    const cutting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (connections++ > 0 || !response.body) return response;
      const reader = response.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { value, done } = await reader.read();
          if (done || !value) return controller.close();
          controller.enqueue(value);
          // Cut after the opening count.
          if (new TextDecoder().decode(value).includes('unread.changed')) {
            await reader.cancel();
            controller.error(new TypeError('connection reset'));
          }
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const b = clientOf(bob, cutting);
    const controller = new AbortController();
    const bodies: string[] = [];
    const reconnects: number[] = [];
    const reading = (async () => {
      for await (const event of b.events({
        signal: controller.signal,
        reconnectDelayMs: 50,
        onReconnect: ({ delayMs }) => reconnects.push(delayMs),
      })) {
        if (event.event === 'message.created') bodies.push(event.data.message.body ?? '');
        if (bodies.length === 2) controller.abort();
      }
    })();
    await until(() => expect(connections).toBe(2));
    await a.sendMessage(threadId, { body: 'after the cut' });
    await a.sendMessage(threadId, { body: 'and more' });
    await reading;
    expect(bodies).toEqual(['after the cut', 'and more']);
    expect(reconnects.length).toBeGreaterThan(0);
  });

  async function conversation() {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const started = await clientOf(alice).startThread({ recipientId: bob.userId });
    return { alice, bob, threadId: started.thread.id };
  }
});

/** The web app's development sign-in: only where the demo org is seeded (DEV_SEED). */
describe('development sign-in helpers', () => {
  it('lists the demo members and mints a token that works, only with DEV_SEED', async () => {
    const dev = await startTestApp({ ...UNTHROTTLED, DEV_SEED: 'true' });
    const plain = await startTestApp({ ...UNTHROTTLED });
    try {
      const devUrl = await listen(dev);
      const members = await listDemoMembers(devUrl);
      expect(members.map((m) => m.displayName)).toEqual([
        'Alice Martin',
        'Bob Nguyen',
        'Carol Diaz',
        'Dave Okafor',
      ]);
      const { token } = await createDevToken(devUrl, members[0].userId);
      const me = await createMessagingClient({ baseUrl: devUrl, getToken: () => token }).getMe();
      expect(me).toMatchObject({ userId: members[0].userId, displayName: 'Alice Martin' });
      await expect(
        createDevToken(devUrl, '01890a5d-ac96-774b-bcce-b302099a8057'),
      ).rejects.toMatchObject({ status: 404 });

      const plainUrl = await listen(plain);
      await expect(listDemoMembers(plainUrl)).rejects.toMatchObject({ status: 404 });
    } finally {
      await dev.close();
      await plain.close();
    }
  });
});

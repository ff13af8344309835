import type { Client } from 'pg';
import { drainOutbox, ownerClient, pause } from '../support/async';
import {
  allMessages,
  API,
  deleteMessage,
  listedThread,
  markRead,
  newThread,
  sent,
  unread,
  type MessageJson,
  type ThreadJson,
} from '../support/factories';
import { listen, openStream, SseClient } from '../support/sse';
import { bearer, startTestApp, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';

/**
 * The event stream (SPEC §4a): what each member's streams receive, in what shape, and that
 * nothing reaches anyone it does not concern. Every object on a stream is compared with what that
 * member's GET answers at the same moment.
 */
describe('event stream: events, shapes and recipients', () => {
  let t: TestApp;
  let db: Client;
  let base: string;
  const open: SseClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({ ...UNTHROTTLED, WORKER_ENABLED: 'true', EVENTS_PING_MS: '300' });
    db = await ownerClient(t.database);
    base = await listen(t);
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  const stream = async (member: Member, options: Parameters<typeof openStream>[2] = {}) => {
    const s = await openStream(base, member, options);
    open.push(s);
    expect(s.status).toBe(200);
    await s.waitFor('unread.changed');
    return s;
  };
  /** Everything committed so far has been produced and published (and had time to arrive). */
  const settle = async () => {
    await drainOutbox(db);
    await pause(150);
  };
  const names = (s: SseClient) => s.events.map((e) => e.event);
  const notificationsOf = async (member: Member) =>
    (await t.http().get(`${API}/notifications`).set(bearer(member))).body.data as {
      id: string;
    }[];

  it('opens with the member’s unread count and an id, as text/event-stream that proxies do not buffer', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread } = await newThread(t, alice, bob, 'unread before the stream');
    await settle();
    const s = await stream(bob);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-store');
    expect(s.headers['x-accel-buffering']).toBe('no');
    expect(s.events).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{8}\.\d+$/),
        event: 'unread.changed',
        data: await unread(t, bob),
      },
    ]);
    expect(s.named('unread.changed')[0]).toEqual({ total: 1, threads: 1 });
    expect(thread.id).toBeDefined();
  });

  it('sends a ping comment well within 25 s, so proxies keep an idle stream', async () => {
    const org = t.createOrg();
    const s = await stream(await t.createMember(org));
    await s.until((c) => c.comments.includes('ping'), 5000, 'a ping');
    expect(s.events.map((e) => e.event)).toEqual(['unread.changed']);
  });

  it('tells each participant, on every stream, what their GET shows, and nobody else anything', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org, { displayName: 'Alice' });
    const bob = await t.createMember(org, { displayName: 'Bob' });
    const carol = await t.createMember(org, { displayName: 'Carol' });
    const stranger = await t.createMember(t.createOrg(), { displayName: 'Stranger' });
    const alicePhone = await stream(alice);
    // Alice's second device is a browser: it opens with a ticket.
    const ticket = await t.http().post(`${API}/events/tickets`).set(bearer(alice)).expect(201);
    const aliceLaptop = await SseClient.open(`${base}/api/v1/events?ticket=${ticket.body.ticket}`);
    open.push(aliceLaptop);
    expect(aliceLaptop.status).toBe(200);
    await aliceLaptop.waitFor('unread.changed');
    const bobStream = await stream(bob);
    const carolStream = await stream(carol);
    const strangerStream = await stream(stranger);

    // 1. Alice starts a thread with a first message.
    const { thread, message: hello } = await newThread(t, alice, bob, 'hello Bob');
    await settle();
    await bobStream.waitFor('notification.created');
    expect(names(bobStream)).toEqual([
      'unread.changed',
      'thread.created',
      'message.created',
      'unread.changed',
      'notification.created',
    ]);
    const bobThread = bobStream.named<{ thread: ThreadJson }>('thread.created')[0].thread;
    expect(bobThread).toEqual(await listedThread(t, bob, thread.id));
    expect(bobStream.named('message.created')[0]).toEqual({
      threadId: thread.id,
      message: (await allMessages(t, bob, thread.id))[0],
    });
    expect(bobStream.named('unread.changed')[1]).toEqual(await unread(t, bob));
    expect(bobStream.named<{ notification: { id: string } }>('notification.created')[0]).toEqual({
      notification: (await notificationsOf(bob))[0],
    });
    // The starter hears of it through the message, on both devices (no thread.created).
    for (const device of [alicePhone, aliceLaptop]) {
      expect(names(device)).toEqual(['unread.changed', 'message.created']);
      expect(device.named('message.created')[0]).toEqual({
        threadId: thread.id,
        message: (await allMessages(t, alice, thread.id))[0],
      });
    }

    // 2. Bob replies: the reply reads Alice's message, which Alice sees as a receipt.
    const reply = await sent(t, bob, thread.id, 'hi Alice');
    await settle();
    for (const device of [alicePhone, aliceLaptop]) {
      await device.waitFor('notification.created');
      expect(names(device).slice(2)).toEqual([
        'message.read',
        'message.created',
        'unread.changed',
        'notification.created',
      ]);
      expect(device.named('message.read')[0]).toEqual({
        threadId: thread.id,
        readerId: bob.userId,
        lastReadMessageId: hello!.id,
        readAt: expect.stringMatching(/Z$/),
      });
      expect(device.named<{ message: MessageJson }>('message.created')[1].message).toEqual(
        (await allMessages(t, alice, thread.id))[1],
      );
      expect(device.named('unread.changed')[1]).toEqual({ total: 1, threads: 1 });
    }
    expect(names(bobStream).slice(5)).toEqual([
      'message.read',
      'message.created',
      'unread.changed',
    ]);
    expect(bobStream.named<{ message: MessageJson }>('message.created')[1].message.id).toBe(
      reply.id,
    );
    expect(bobStream.named('unread.changed')[2]).toEqual({ total: 0, threads: 0 });

    // 3. Alice reads on her phone: her laptop follows, Bob gets the receipt.
    const read = await markRead(t, alice, thread.id);
    await settle();
    const receipt = {
      threadId: thread.id,
      readerId: alice.userId,
      lastReadMessageId: reply.id,
      readAt: read.body.readAt as string,
    };
    for (const device of [alicePhone, aliceLaptop]) {
      expect(names(device).slice(6)).toEqual(['message.read', 'unread.changed']);
      expect(device.named('message.read')[1]).toEqual(receipt);
      expect(device.named('unread.changed')[2]).toEqual({ total: 0, threads: 0 });
    }
    expect(names(bobStream).slice(8)).toEqual(['message.read']);
    expect(bobStream.named('message.read')[1]).toEqual(receipt);
    // What Bob's GET shows of the receipt now matches the event.
    expect((await allMessages(t, bob, thread.id))[1].seenBy).toEqual([
      { userId: alice.userId, seenAt: read.body.readAt },
    ]);

    // 4. Alice deletes her first message: both participants hear of it.
    expect((await deleteMessage(t, alice, thread.id, hello!.id)).status).toBe(204);
    await settle();
    const deleted = { threadId: thread.id, messageId: hello!.id };
    for (const s of [alicePhone, aliceLaptop, bobStream]) {
      await s.waitFor('message.deleted');
      expect(s.named('message.deleted')).toEqual([deleted]);
    }

    // Ids increase on every stream; a member's two streams carry the same ids.
    for (const s of [alicePhone, aliceLaptop, bobStream]) {
      const seqs = s.events.map((e) => Number(e.id!.split('.')[1]));
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    expect(alicePhone.events.slice(1)).toEqual(aliceLaptop.events.slice(1));

    // A same-org member who is not a participant, and another org's, received nothing.
    expect(names(carolStream)).toEqual(['unread.changed']);
    expect(names(strangerStream)).toEqual(['unread.changed']);
  });

  it('sends a coalesced notification again with its new count (clients upsert by id)', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread } = await newThread(t, alice, bob, 'one');
    await settle();
    const s = await stream(bob);
    await sent(t, alice, thread.id, 'two');
    await sent(t, alice, thread.id, 'three');
    await settle();
    await s.waitFor('notification.created', 1);
    const notifications = s.named<{ notification: { id: string; count: number } }>(
      'notification.created',
    );
    const [now] = await notificationsOf(bob);
    expect(notifications[notifications.length - 1].notification).toEqual(now);
    expect(new Set(notifications.map((n) => n.notification.id))).toEqual(new Set([now.id]));
  });
});

import type { Client } from 'pg';
import { drainOutbox, ownerClient, pause } from '../support/async';
import {
  API,
  allMessages,
  block,
  deleteMessage,
  markRead,
  newThread,
  send,
  sent,
  startThread,
  unblock,
  updateSettings,
  type MessageJson,
} from '../support/factories';
import { Normaliser } from '../support/normalise';
import { listen, openStream, type SseClient, type SseEvent } from '../support/sse';
import { bearer, startTestApp, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';

/**
 * Blocks and receipt privacy on the stream (SPEC §2, §4a): the stream applies the REST views'
 * rules, so a blocked member's stream says exactly what it would without the block, the blocker's
 * says nothing of what the block withholds, and a receipt goes only where it is visible.
 */
describe('event stream: blocks and receipts', () => {
  let t: TestApp;
  let db: Client;
  let base: string;
  const open: SseClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({ ...UNTHROTTLED, WORKER_ENABLED: 'true' });
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

  const stream = async (member: Member) => {
    const s = await openStream(base, member);
    open.push(s);
    await s.waitFor('unread.changed');
    return s;
  };
  /** Everything committed so far has been produced and published, and had time to arrive. */
  const settle = async () => {
    await drainOutbox(db);
    await pause(100);
  };
  /** A stream's events with ids (the SSE id's epoch too) and timestamps normalised. */
  const normalised = (events: SseEvent[]) => {
    const n = new Normaliser();
    return events.map((e) => ({
      id: e.id?.replace(/^[0-9a-f]{8}\./, '<epoch>.'),
      event: e.event,
      data: n.normalise(e.data),
    }));
  };

  /**
   * The REST indistinguishability script (test/blocks/indistinguishable.test.ts), played with Bob's
   * phone and laptop streams open, each step settled (so that batching cannot differ between runs).
   */
  async function bobsStreams(aliceBlocksBob: boolean): Promise<unknown[]> {
    const org = t.createOrg();
    const alice = await t.createMember(org, { displayName: 'Alice Martin' });
    const bob = await t.createMember(org, { displayName: 'Bob Stone' });
    const phone = await stream(bob);
    const laptop = await stream(bob);
    const step = async (action: () => Promise<unknown>) => {
      await action();
      await settle();
    };
    const started = await startThread(t, alice, bob, { body: 'Hello Bob' });
    const threadId = started.body.thread.id as string;
    const hello = started.body.message.id as string;
    await settle();
    await step(() => markRead(t, bob, threadId));
    await step(() => send(t, bob, threadId, 'Hi Alice'));
    await step(() => markRead(t, alice, threadId));

    if (aliceBlocksBob) await step(() => block(t, alice, bob));

    const first = await send(t, bob, threadId, 'Are you there?', { clientMessageId: 'bob-1' });
    await settle();
    await step(() => send(t, bob, threadId, 'Are you there?', { clientMessageId: 'bob-1' }));
    await step(() => send(t, bob, threadId, 'Something else', { clientMessageId: 'bob-1' }));
    const second = await send(t, bob, threadId, 'Second try', { idempotencyKey: 'bob-2' });
    await settle();
    await step(() => send(t, bob, threadId, 'Third'));
    await step(() => markRead(t, bob, threadId));
    await step(() => markRead(t, bob, threadId, hello));
    await step(() => deleteMessage(t, bob, threadId, second.body.id as string));
    await step(() => deleteMessage(t, bob, threadId, hello));
    await step(() => startThread(t, bob, alice, { body: 'Starting over', clientMessageId: 'b3' }));
    await step(() => startThread(t, bob, alice));
    // Blocking, Alice goes on with her day and reads the thread (what she may see of it): Bob
    // must not tell that from her not reading at all.
    if (aliceBlocksBob) await step(() => markRead(t, alice, threadId));
    expect(first.status).toBe(201);
    expect(phone.events.slice(1)).toEqual(laptop.events.slice(1));
    return normalised(phone.events);
  }

  it('gives a blocked member’s streams exactly what they would receive without the block', async () => {
    const plainRun = await bobsStreams(false);
    const blockedRun = await bobsStreams(true);
    // The script does reach Bob's stream (so the comparison says something): his own sends,
    // reads and deletion after the block included.
    expect(plainRun.map((e) => (e as SseEvent).event)).toEqual([
      'unread.changed',
      'thread.created',
      'message.created',
      'unread.changed',
      'notification.created',
      'message.read',
      'unread.changed',
      'message.created',
      'message.read',
      'message.created',
      'message.created',
      'message.created',
      'message.deleted',
      'message.created',
    ]);
    expect(blockedRun).toEqual(plainRun);
  });

  it('tells the blocker nothing of what the block withholds, and the rest as usual', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org, { role: 'manager' });
    const carol = await t.createMember(org);
    const { thread } = await newThread(t, bob, alice, 'before the block');
    await block(t, alice, bob);
    await settle();
    const s = await stream(alice);

    // Bob's messages in the old thread, a new thread he starts (a manager may), his deletion
    // of a withheld message: nothing reaches Alice.
    const withheld = await sent(t, bob, thread.id, 'withheld');
    await settle();
    expect((await deleteMessage(t, bob, thread.id, withheld.id)).status).toBe(204);
    await block(t, bob, carol);
    await unblock(t, bob, carol);
    await settle();
    expect(s.events.map((e) => e.event)).toEqual(['unread.changed']);

    // Carol's message still arrives, as Alice's GET shows it.
    const { thread: fromCarol, message } = await newThread(t, carol, alice, 'hi from Carol');
    await settle();
    await s.waitFor('notification.created');
    // The count follows the message; the notification (the worker's) may come before or after it.
    const names = s.events.map((e) => e.event);
    expect(names.slice(0, 3)).toEqual(['unread.changed', 'thread.created', 'message.created']);
    expect(names.slice(3).sort()).toEqual(['notification.created', 'unread.changed']);
    expect(s.named<{ message: MessageJson }>('message.created')[0].message).toEqual(
      (await allMessages(t, alice, fromCarol.id))[0],
    );
    expect(message!.body).toBe('hi from Carol');

    // Alice blocking Bob changed her own unread count: her streams hear of it.
    const countBefore = s.named('unread.changed').length;
    const { thread: second } = await newThread(t, await t.createMember(org), alice, 'x');
    await settle();
    await unblock(t, alice, bob);
    await settle();
    await s.until((c) => c.named('unread.changed').length > countBefore + 1, 5000, 'counts');
    const last = s.named('unread.changed').at(-1);
    expect(last).toEqual(
      (await t.http().get(`${API}/messages/unread-count`).set(bearer(alice))).body,
    );
    expect(second.id).toBeDefined();
  });

  it('sends no thread.created for a thread started by someone the recipient blocks', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const manager = await t.createMember(org, { role: 'manager' });
    await block(t, alice, manager);
    await settle();
    const s = await stream(alice);
    const res = await startThread(t, manager, alice, { body: 'silent' });
    expect(res.status).toBe(201);
    await settle();
    expect(s.events.map((e) => e.event)).toEqual(['unread.changed']);
  });

  it('sends a read to the other participant only where receipts are visible, both ways', async () => {
    const org = t.createOrg();
    const dave = await t.createMember(org);
    const carol = await t.createMember(org, { readReceipts: false });
    const { thread, message } = await newThread(t, dave, carol, 'from Dave');
    await settle();
    const daveStream = await stream(dave);
    const carolStream = await stream(carol);

    // Carol emits no receipts: her read reaches her own stream, not Dave's.
    await markRead(t, carol, thread.id);
    await settle();
    expect(carolStream.named('message.read')).toEqual([
      expect.objectContaining({ readerId: carol.userId, lastReadMessageId: message!.id }),
    ]);
    expect(daveStream.named('message.read')).toEqual([]);

    // And sees none (reciprocity): Dave's read of her reply does not reach her.
    const reply = await sent(t, carol, thread.id, 'from Carol');
    await settle();
    await markRead(t, dave, thread.id);
    await settle();
    expect(daveStream.named('message.read')).toEqual([
      expect.objectContaining({ readerId: dave.userId, lastReadMessageId: reply.id }),
    ]);
    expect(carolStream.named('message.read')).toHaveLength(1);

    // Carol turns receipts on: reads from then on are visible both ways.
    expect((await updateSettings(t, carol, { readReceipts: true })).status).toBe(200);
    const next = await sent(t, dave, thread.id, 'again');
    await settle();
    await markRead(t, carol, thread.id);
    await settle();
    expect(daveStream.named('message.read')).toEqual([
      expect.objectContaining({ readerId: dave.userId }),
      expect.objectContaining({ readerId: carol.userId, lastReadMessageId: next.id }),
    ]);
    const later = await sent(t, carol, thread.id, 'and again');
    await settle();
    await markRead(t, dave, thread.id);
    await settle();
    expect(carolStream.named('message.read').at(-1)).toEqual(
      expect.objectContaining({ readerId: dave.userId, lastReadMessageId: later.id }),
    );
  });

  it('never names a message hidden from the receiver of a read', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread } = await newThread(t, alice, bob, 'hello');
    await settle();
    await block(t, alice, bob);
    await settle();
    const aliceStream = await stream(alice);
    // Bob's withheld message, then his read: it stops at his own (withheld) message, which
    // Alice may not know of, so she hears nothing.
    await sent(t, bob, thread.id, 'withheld');
    await markRead(t, bob, thread.id);
    await settle();
    expect(aliceStream.events.map((e) => e.event)).toEqual(['unread.changed']);
  });
});

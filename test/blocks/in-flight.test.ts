import { startTestApp, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  allMessages,
  block,
  countRows,
  listedThread,
  newThread,
  send,
  sent,
  unblock,
  unread,
  viewThread,
  type MessageJson,
  type Res,
} from '../support/factories';

describe('blocking while sends are in flight (AC-3)', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  it.each([0, 1, 2])(
    'keeps every accepted message and withholds exactly those sent after the block (round %i)',
    async () => {
      const alice = await t.createMember(org);
      const bob = await t.createMember(org);
      const { thread, message: hi } = await newThread(t, alice, bob, 'hi Bob');
      const threadId = thread.id;
      const before = await sent(t, bob, threadId, 'before the block');

      // Four senders' worth of sends in flight; the block goes out while they run.
      const CHAINS = 4;
      const PER_CHAIN = 6;
      const BURST = CHAINS * PER_CHAIN;
      let answered = 0;
      let blockSentAt = -1;
      let blockAnsweredAt = -1;
      let blocking: Promise<Res> | undefined;
      const events: { res: Res; startedAt: number; answeredAt: number }[] = [];
      let clock = 0;
      const chain = async (c: number) => {
        for (let i = 0; i < PER_CHAIN; i++) {
          const startedAt = ++clock;
          const res = await send(t, bob, threadId, `burst ${c}.${i}`);
          events.push({ res, startedAt, answeredAt: ++clock });
          if (++answered === 6) {
            blockSentAt = ++clock;
            blocking = block(t, alice, bob).then((r) => {
              blockAnsweredAt = ++clock;
              return r;
            });
          }
        }
      };
      await Promise.all(Array.from({ length: CHAINS }, (_, c) => chain(c)));
      expect((await blocking!).status).toBe(201);
      const results = events.map((e) => e.res);

      // Bob was told 201 for every one of them, and every one exists, in one order.
      expect(results.map((r) => r.status)).toEqual(Array(BURST).fill(201));
      const accepted = results.map((r) => r.body as MessageJson);
      const bobSees = await allMessages(t, bob, threadId);
      expect(bobSees.map((m) => m.seq)).toEqual(Array.from({ length: BURST + 2 }, (_, i) => i + 1));
      expect(new Set(bobSees.slice(2).map((m) => m.id))).toEqual(
        new Set(accepted.map((m) => m.id)),
      );
      expect(await countRows(t, 'messages', 'thread_id = $1', [threadId])).toBe(BURST + 2);

      // While blocked Alice sees none of Bob's messages.
      expect((await allMessages(t, alice, threadId)).map((m) => m.id)).toEqual([hi!.id]);
      expect(await unread(t, alice)).toEqual({ total: 0, threads: 0 });

      // After unblocking she sees the ones sent before the block landed: a prefix of the burst
      // in seq order (sends and the block are serialized per thread), and never the others.
      await unblock(t, alice, bob);
      const fromBob = (await allMessages(t, alice, threadId))
        .filter((m) => m.sender.userId === bob.userId)
        .map((m) => m.id);
      const bySeq = bobSees.slice(1).map((m) => m.id); // `before` and the burst, in seq order
      expect(fromBob[0]).toBe(before.id);
      expect(fromBob).toEqual(bySeq.slice(0, fromBob.length));
      // Answered before the block was placed: visible; sent after it was answered: withheld.
      const visible = new Set(fromBob);
      for (const e of events) {
        const id = (e.res.body as MessageJson).id;
        if (e.answeredAt < blockSentAt)
          expect({ id, visible: visible.has(id) }).toEqual({ id, visible: true });
        if (e.startedAt > blockAnsweredAt)
          expect({ id, visible: visible.has(id) }).toEqual({ id, visible: false });
      }
      expect(fromBob.length).toBeGreaterThan(6);
      expect(fromBob.length).toBeLessThan(BURST + 1);
      const lastVisible = bobSees.find((m) => m.id === fromBob[fromBob.length - 1])!;

      // The same set everywhere: page, preview, list order and unread count.
      const view = await viewThread(t, alice, threadId);
      expect(
        (view.body.messages.data as MessageJson[])
          .filter((m) => m.sender.userId === bob.userId)
          .map((m) => m.id),
      ).toEqual(fromBob);
      const listed = await listedThread(t, alice, threadId);
      expect(listed!.lastMessage!.id).toBe(lastVisible.id);
      expect(listed!.lastMessageAt).toBe(lastVisible.createdAt);
      expect(listed!.unreadCount).toBe(fromBob.length);
      expect(await unread(t, alice)).toEqual({ total: fromBob.length, threads: 1 });
    },
  );
});

import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  allThreads,
  deactivate,
  deleteMessage,
  expectProblem,
  markRead,
  newThread,
  ownerQuery,
  send,
  startThread,
} from '../support/factories';

interface OutboxRow extends Record<string, unknown> {
  type: string;
  org_id: string;
  thread_id: string;
  message_id: string | null;
  actor_id: string;
  seq: number | null;
  data: unknown;
  xmin: string;
}

describe('the transactional outbox', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
      RATE_LIMIT_THREADS_PER_HOUR: '3',
      // The limit is asserted: a Redis answer slowed by a busy test machine must not fail open.
      RATE_LIMIT_REDIS_TIMEOUT_MS: '2000',
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  const events = (where: string, params: unknown[]) =>
    ownerQuery<OutboxRow>(
      t,
      `select type, org_id, thread_id, message_id, actor_id, seq, data, xmin::text as xmin
         from outbox_events where ${where} order by created_at, id`,
      params,
    );
  const xminOf = async (table: string, id: string) =>
    (
      await ownerQuery<{ xmin: string }>(
        t,
        `select xmin::text as xmin from ${table} where id = $1`,
        [id],
      )
    )[0]?.xmin;

  it('writes thread.created and message.created in the transactions that create them', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const body = 'The secret code is 4711';
    const started = await startThread(t, alice, bob, { body });
    expect(started.status).toBe(201);
    const threadId = started.body.thread.id as string;
    const messageId = started.body.message.id as string;

    const rows = await events('thread_id = $1', [threadId]);
    expect(rows.map((r) => r.type)).toEqual(['thread.created', 'message.created']);
    expect(rows[1]).toEqual(
      expect.objectContaining({
        org_id: org,
        thread_id: threadId,
        message_id: messageId,
        actor_id: alice.userId,
        seq: 1,
      }),
    );
    // Same transaction as the rows they announce.
    expect(rows[0].xmin).toBe(await xminOf('message_threads', threadId));
    expect(rows[1].xmin).toBe(await xminOf('messages', messageId));
    // Events carry ids, never the text.
    expect(JSON.stringify(rows)).not.toContain('4711');

    const reply = await send(t, bob, threadId, 'a reply');
    const replyEvents = await events(`type = 'message.created' and message_id = $1`, [
      reply.body.id,
    ]);
    expect(replyEvents).toHaveLength(1);
    expect(replyEvents[0]).toEqual(expect.objectContaining({ actor_id: bob.userId, seq: 2 }));
    expect(replyEvents[0].xmin).toBe(await xminOf('messages', reply.body.id as string));
  });

  it('writes message.deleted and message.read', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread, message } = await newThread(t, alice, bob, 'to be deleted');
    await markRead(t, bob, thread.id);
    expect(await deleteMessage(t, alice, thread.id, message!.id)).toHaveProperty('status', 204);
    const rows = await events('thread_id = $1', [thread.id]);
    expect(rows.map((r) => [r.type, r.actor_id, r.message_id])).toEqual([
      ['thread.created', alice.userId, null],
      ['message.created', alice.userId, message!.id],
      ['message.read', bob.userId, message!.id],
      ['message.deleted', alice.userId, message!.id],
    ]);
  });

  const countAll = async () =>
    (
      await ownerQuery<{ threads: number; messages: number; events: number }>(
        t,
        `select (select count(*)::int from message_threads where org_id = $1) as threads,
                (select count(*)::int from messages where org_id = $1) as messages,
                (select count(*)::int from outbox_events where org_id = $1) as events`,
        [org],
      )
    )[0];

  it('writes no message and no event for a refused send (409, 422)', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread } = await newThread(t, alice, bob);
    const key = randomUUID();
    expect((await send(t, alice, thread.id, 'first', { clientMessageId: key })).status).toBe(201);
    const before = await countAll();

    expectProblem(
      await send(t, alice, thread.id, 'other words', { clientMessageId: key }),
      422,
      'idempotency-key-reused',
    );
    await deactivate(t, bob);
    expectProblem(await send(t, alice, thread.id, 'hello?'), 409, 'recipient-inactive');
    expect(await countAll()).toEqual(before);
  });

  it('rolls back the thread and its event when the rest of the request fails', async () => {
    const alice = await t.createMember(org);
    const key = randomUUID();
    const first = await newThread(t, alice, await t.createMember(org));
    expect((await send(t, alice, first.thread.id, 'keyed', { clientMessageId: key })).status).toBe(
      201,
    );

    // The thread would be created, then the send fails on the reused key: nothing may remain.
    const carol = await t.createMember(org);
    let before = await countAll();
    const refused = await startThread(t, alice, carol, { body: 'not keyed', clientMessageId: key });
    expectProblem(refused, 422, 'idempotency-key-reused');
    expect(await countAll()).toEqual(before);

    // The thread would be created, then the new-thread limit (3 an hour here) refuses it.
    const ed = await t.createMember(org);
    for (let i = 0; i < 3; i++) await newThread(t, ed, await t.createMember(org));
    const dave = await t.createMember(org);
    before = await countAll();
    const limited = await startThread(t, ed, dave, { body: 'one too many' });
    expectProblem(limited, 429, 'rate-limited');
    expect(await countAll()).toEqual(before);

    expect(await allThreads(t, carol)).toEqual([]);
    expect(await allThreads(t, dave)).toEqual([]);
  });
});

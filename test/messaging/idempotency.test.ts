import { randomUUID } from 'node:crypto';
import { startTestApp, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  allMessages,
  allThreads,
  countRows,
  deactivate,
  deleteMessage,
  expectProblem,
  listedThread,
  newThread,
  ownerQuery,
  reactivate,
  send,
  sent,
  startThread,
  type MessageJson,
  pair as makePair,
} from '../support/factories';

describe('idempotent send', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  const pair = () => makePair(t, org);
  const messageCount = (threadId: string) => countRows(t, 'messages', 'thread_id = $1', [threadId]);
  const createdEvents = (messageId: string) =>
    countRows(t, 'outbox_events', `type = 'message.created' and message_id = $1`, [messageId]);

  it('answers a repeat with the original message (200) and creates nothing (clientMessageId)', async () => {
    const { alice, threadId } = await pair();
    const key = randomUUID();
    const first = await send(t, alice, threadId, 'Parcel at the desk', { clientMessageId: key });
    expect(first.status).toBe(201);
    expect(first.body.clientMessageId).toBe(key);
    const repeat = await send(t, alice, threadId, 'Parcel at the desk', { clientMessageId: key });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    expect(await messageCount(threadId)).toBe(1);
    expect(await createdEvents(first.body.id as string)).toBe(1);
    // No seq was used up by the repeat.
    expect((await sent(t, alice, threadId, 'next')).seq).toBe(2);
  });

  it('treats the Idempotency-Key header as the same key space', async () => {
    const { alice, threadId } = await pair();
    const key = `key-${randomUUID()}`;
    const first = await send(t, alice, threadId, 'via header', { idempotencyKey: key });
    expect(first.status).toBe(201);
    expect(first.body.clientMessageId).toBe(key);
    const byHeader = await send(t, alice, threadId, 'via header', { idempotencyKey: key });
    expect([byHeader.status, byHeader.body]).toEqual([200, first.body]);
    const byBody = await send(t, alice, threadId, 'via header', { clientMessageId: key });
    expect([byBody.status, byBody.body]).toEqual([200, first.body]);
    const both = await send(t, alice, threadId, 'via header', {
      clientMessageId: key,
      idempotencyKey: key,
    });
    expect([both.status, both.body]).toEqual([200, first.body]);
    expect(await messageCount(threadId)).toBe(1);
  });

  it('refuses a body key and a header that differ (400) and writes nothing', async () => {
    const { alice, threadId } = await pair();
    const res = await send(t, alice, threadId, 'two keys', {
      clientMessageId: 'key-one',
      idempotencyKey: 'key-two',
    });
    expectProblem(res, 400, 'bad-request');
    expect(await messageCount(threadId)).toBe(0);
    // Neither key was taken.
    expect((await send(t, alice, threadId, 'a', { clientMessageId: 'key-one' })).status).toBe(201);
    expect((await send(t, alice, threadId, 'b', { idempotencyKey: 'key-two' })).status).toBe(201);
  });

  it('refuses keys over 64 characters (400)', async () => {
    const { alice, threadId } = await pair();
    const res = await send(t, alice, threadId, 'hi', { clientMessageId: 'x'.repeat(65) });
    expectProblem(res, 400, 'validation-failed');
    const long = await send(t, alice, threadId, 'hi', { idempotencyKey: 'x'.repeat(65) });
    expect(long.status).toBe(400);
    expect((await send(t, alice, threadId, 'hi', { clientMessageId: 'x'.repeat(64) })).status).toBe(
      201,
    );
    expect(await messageCount(threadId)).toBe(1);
  });

  it('answers the same key with another body or another thread with 422, writing nothing', async () => {
    const { alice, threadId } = await pair();
    const other = await newThread(t, alice, await t.createMember(org));
    const key = randomUUID();
    const first = await send(t, alice, threadId, 'original', { clientMessageId: key });
    expect(first.status).toBe(201);

    const otherBody = await send(t, alice, threadId, 'changed', { clientMessageId: key });
    expectProblem(otherBody, 422, 'idempotency-key-reused');
    const otherThread = await send(t, alice, other.thread.id, 'original', { clientMessageId: key });
    expectProblem(otherThread, 422, 'idempotency-key-reused');
    const carol = await t.createMember(org);
    const viaStart = await startThread(t, alice, carol, { body: 'original', clientMessageId: key });
    expectProblem(viaStart, 422, 'idempotency-key-reused');
    // The refused request created no thread either.
    expect(await allThreads(t, carol)).toEqual([]);

    expect(await messageCount(threadId)).toBe(1);
    expect(await messageCount(other.thread.id)).toBe(0);
    expect(
      await countRows(t, 'outbox_events', `type = 'message.created' and actor_id = $1`, [
        alice.userId,
      ]),
    ).toBe(1);
  });

  it('scopes keys to the sender', async () => {
    const { alice, bob, threadId } = await pair();
    const key = randomUUID();
    const a = await send(t, alice, threadId, 'same words', { clientMessageId: key });
    const b = await send(t, bob, threadId, 'same words', { clientMessageId: key });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body.id).not.toBe(a.body.id);
    expect(await messageCount(threadId)).toBe(2);
  });

  it('scopes keys to the org', async () => {
    const { alice, threadId } = await pair();
    const otherOrg = t.createOrg();
    const aliceThere: Member = {
      orgId: otherOrg,
      userId: alice.userId,
      role: 'resident',
      displayName: 'Alice there',
      token: t.tokenFor({
        sub: alice.userId,
        orgId: otherOrg,
        role: 'resident',
        name: 'Alice there',
      }),
    };
    const bobThere = await t.createMember(otherOrg);
    const { thread: there } = await newThread(t, aliceThere, bobThere);
    const key = randomUUID();
    const here = await send(t, alice, threadId, 'same words', { clientMessageId: key });
    const away = await send(t, aliceThere, there.id, 'same words', { clientMessageId: key });
    expect([here.status, away.status]).toEqual([201, 201]);
    expect(away.body.threadId).toBe(there.id);
  });

  it('shows the key to the sender only', async () => {
    const { alice, bob, threadId } = await pair();
    const key = randomUUID();
    const first = await send(t, alice, threadId, 'mine', { clientMessageId: key });
    expect((await allMessages(t, alice, threadId))[0].clientMessageId).toBe(key);
    expect((await allMessages(t, bob, threadId))[0].clientMessageId).toBeNull();
    expect((await listedThread(t, alice, threadId))!.lastMessage!.clientMessageId).toBe(key);
    expect((await listedThread(t, bob, threadId))!.lastMessage!.clientMessageId).toBeNull();
    expect(first.body.clientMessageId).toBe(key);
  });

  it('creates exactly one message when the same key arrives many times at once', async () => {
    const { alice, threadId } = await pair();
    const key = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 16 }, () =>
        send(t, alice, threadId, 'tapped send many times', { clientMessageId: key }),
      ),
    );
    expect(await messageCount(threadId)).toBe(1);
    const [stored] = await allMessages(t, alice, threadId);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const res of results) {
      if (res.status === 409) {
        expectProblem(res, 409, 'request-in-progress');
      } else {
        expect([200, 201]).toContain(res.status);
        expect(res.body).toEqual(stored);
      }
    }
    expect(await createdEvents(stored.id)).toBe(1);
  });

  it('answers a repeat after a delete with the tombstone (200)', async () => {
    const { alice, threadId } = await pair();
    const key = randomUUID();
    const first = await send(t, alice, threadId, 'oops', { clientMessageId: key });
    expect((await deleteMessage(t, alice, threadId, first.body.id as string)).status).toBe(204);
    const repeat = await send(t, alice, threadId, 'oops', { clientMessageId: key });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual({
      ...first.body,
      body: null,
      deleted: true,
      deletedAt: expect.any(String),
    });
    expect(await messageCount(threadId)).toBe(1);
  });

  it('does not remember a refused send', async () => {
    const { alice, bob, threadId } = await pair();
    const key = randomUUID();
    await deactivate(t, bob);
    const refused = await send(t, alice, threadId, 'first try', { clientMessageId: key });
    expectProblem(refused, 409, 'recipient-inactive');
    await reactivate(t, bob);
    const retry = await send(t, alice, threadId, 'second try, other words', {
      clientMessageId: key,
    });
    expect(retry.status).toBe(201);
    expect(retry.body.body).toBe('second try, other words');
  });

  it('repeats a start with a key as the original message on the existing thread (200)', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const key = randomUUID();
    const first = await startThread(t, alice, bob, { body: 'hello', clientMessageId: key });
    expect(first.status).toBe(201);
    const repeat = await startThread(t, alice, bob, { body: 'hello', clientMessageId: key });
    expect(repeat.status).toBe(200);
    expect(repeat.body.message).toEqual(first.body.message);
    expect(repeat.body.thread.id).toBe(first.body.thread.id);
    expect(await messageCount(first.body.thread.id as string)).toBe(1);
  });

  it('answers a repeated keyed start with the original even after the recipient was deactivated', async () => {
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const carol = await t.createMember(org);
    const key = randomUUID();
    const first = await startThread(t, alice, bob, { body: 'hello', clientMessageId: key });
    expect(first.status).toBe(201);
    await deactivate(t, bob);
    // A client retrying after a timeout learns its message is stored, not that it failed.
    const repeat = await startThread(t, alice, bob, { body: 'hello', clientMessageId: key });
    expect(repeat.status).toBe(200);
    expect(repeat.body.message).toEqual(first.body.message);
    // The key still means that message: another body, or a start with someone else, is 422.
    expectProblem(
      await startThread(t, alice, bob, { body: 'other', clientMessageId: key }),
      422,
      'idempotency-key-reused',
    );
    expectProblem(
      await startThread(t, alice, carol, { body: 'hello', clientMessageId: key }),
      422,
      'idempotency-key-reused',
    );
    expect(await countRows(t, 'message_threads', 'created_by = $1', [alice.userId])).toBe(1);
    // Without the key, starting with a deactivated member is the usual 404.
    expectProblem(await startThread(t, alice, bob, { body: 'hello' }), 404, 'not-found');
  });

  it('keeps keys for at least 72 hours', async () => {
    const { alice, threadId } = await pair();
    const key = randomUUID();
    const first = await send(t, alice, threadId, 'long ago', { clientMessageId: key });
    const id = first.body.id as string;
    // Age everything the service may keep about this send to just under 72 hours.
    await ownerQuery(
      t,
      `update messages set created_at = now() - interval '71 hours 59 minutes' where id = $1`,
      [id],
    );
    await ownerQuery(
      t,
      `update outbox_events set created_at = now() - interval '71 hours 59 minutes' where message_id = $1`,
      [id],
    );
    const repeat = await send(t, alice, threadId, 'long ago', { clientMessageId: key });
    expect(repeat.status).toBe(200);
    expect((repeat.body as MessageJson).id).toBe(id);
    expect(await messageCount(threadId)).toBe(1);
  });
});

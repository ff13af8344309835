import { startTestApp, bearer, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  API,
  expectProblem,
  markRead,
  pair as makePair,
  send,
  viewThread,
  type Res,
} from '../support/factories';
import type { Member } from '../support/test-app';

/** Conditional GETs (issue 17): a strong ETag on every 200 GET, 304 when If-None-Match names it. */
describe('conditional GETs (ETag, If-None-Match)', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({ ...UNTHROTTLED });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  const get = (who: Member, path: string, ifNoneMatch?: string): Promise<Res> => {
    const req = t.http().get(`${API}${path}`).set(bearer(who));
    return ifNoneMatch === undefined ? req : req.set('if-none-match', ifNoneMatch);
  };
  const STRONG_TAG = /^"[A-Za-z0-9_-]{27}"$/;

  it('answers an unchanged thread 304 with its tag and no body, and a changed one 200 with a new tag', async () => {
    const { alice, bob, threadId } = await makePair(t, org);
    expect((await send(t, alice, threadId, 'Parcel for you at the desk')).status).toBe(201);

    const first = await viewThread(t, bob, threadId);
    expect(first.status).toBe(200);
    const tag = first.headers.etag;
    expect(tag).toMatch(STRONG_TAG);
    // The same answer again has the same tag.
    expect((await viewThread(t, bob, threadId)).headers.etag).toBe(tag);

    const unchanged = await get(bob, `/messages/threads/${threadId}`, tag);
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.etag).toBe(tag);
    expect(unchanged.text ?? '').toBe('');
    expect(unchanged.headers['content-type']).toBeUndefined();
    expect(unchanged.headers['cache-control']).toBe('no-store');

    // A new message changes the answer: 200, the message in it, another tag.
    expect((await send(t, alice, threadId, 'Second parcel too')).status).toBe(201);
    const changed = await get(bob, `/messages/threads/${threadId}`, tag);
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).toMatch(STRONG_TAG);
    expect(changed.headers.etag).not.toBe(tag);
    expect(
      (changed.body as { messages: { data: { body: string }[] } }).messages.data.map((m) => m.body),
    ).toEqual(['Parcel for you at the desk', 'Second parcel too']);

    // Bob reading changes what Alice sees (the receipt), so her tag changes too.
    const before = (await viewThread(t, alice, threadId)).headers.etag;
    expect((await markRead(t, bob, threadId)).status).toBe(200);
    const after = await get(alice, `/messages/threads/${threadId}`, before);
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(before);
  });

  it('compares If-None-Match as RFC 9110 says: a list, weak tags, and *', async () => {
    const { alice, bob, threadId } = await makePair(t, org);
    await send(t, alice, threadId, 'Hello');
    const path = `/messages/threads/${threadId}/messages`;
    const tag = (await get(bob, path)).headers.etag;
    expect((await get(bob, path, `"nope", ${tag}`)).status).toBe(304);
    expect((await get(bob, path, `W/${tag}`)).status).toBe(304);
    expect((await get(bob, path, '*')).status).toBe(304);
    const other = await get(bob, path, '"nope"');
    expect(other.status).toBe(200);
    expect((other.body as { data: unknown[] }).data).toHaveLength(1);
  });

  it('covers the list and the unread count, and each member has their own tag', async () => {
    const { alice, bob, threadId } = await makePair(t, org);
    await send(t, alice, threadId, 'Hi Bob');
    for (const path of ['/messages/threads', '/messages/unread-count', '/me']) {
      const res = await get(bob, path);
      expect(res.status).toBe(200);
      expect(res.headers.etag).toMatch(STRONG_TAG);
      expect((await get(bob, path, res.headers.etag)).status).toBe(304);
      // Alice's answer differs (her own view), so Bob's tag does not match it.
      expect((await get(alice, path, res.headers.etag)).status).toBe(200);
    }
    const count = (await get(bob, '/messages/unread-count')).headers.etag;
    await send(t, alice, threadId, 'And again');
    const recount = await get(bob, '/messages/unread-count', count);
    expect(recount.status).toBe(200);
    expect(recount.body).toEqual({ total: 2, threads: 1 });
  });

  it('tags no error and no write', async () => {
    const { alice, threadId } = await makePair(t, org);
    const missing = await get(alice, '/messages/threads/00000000-0000-4000-8000-000000000000', '*');
    expectProblem(missing, 404, 'not-found');
    expect(missing.headers.etag).toBeUndefined();
    const sent = await send(t, alice, threadId, 'A write');
    expect(sent.status).toBe(201);
    expect(sent.headers.etag).toBeUndefined();
  });
});

import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Client } from 'pg';
import { StreamHub } from '../../src/events/stream-hub.service';
import { drainOutbox, eventually, ownerClient, pause } from '../support/async';
import { API, newThread, send, sent, type MessageJson } from '../support/factories';
import { listen, openStream, SseClient } from '../support/sse';
import { bearer, startTestApp, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';

/** The stream's limits (SPEC §4a): per member, per process, slow consumers, rate, shutdown. */
describe('event stream: limits', () => {
  let t: TestApp;
  let db: Client;
  let base: string;
  const open: SseClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
      WORKER_ENABLED: 'true',
      EVENTS_MAX_STREAMS: '7',
      EVENTS_MAX_BUFFER_BYTES: '65536',
      MESSAGE_MAX_LENGTH: '100000',
    });
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
    if (s.status === 200) await s.waitFor('unread.changed');
    return s;
  };
  const settle = async () => {
    await drainOutbox(db);
    await pause(100);
  };
  const hub = () => t.app.get(StreamHub);

  it('keeps at most 5 streams per member: a 6th closes the oldest, the others go on', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const streams: SseClient[] = [];
    for (let i = 0; i < 5; i++) {
      streams.push(await stream(bob));
      await pause(5); // distinct opening times
    }
    const sixth = await stream(bob);
    await streams[0].until((c) => c.ended, 5000, 'the oldest stream to close');
    await newThread(t, alice, bob, 'to every open device');
    await settle();
    for (const s of [...streams.slice(1), sixth]) {
      expect(s.ended).toBe(false);
      await s.waitFor('message.created');
    }
    expect(streams[0].named('message.created')).toEqual([]);
    expect(hub().open).toBe(5);
  });

  it('answers 503 with Retry-After beyond EVENTS_MAX_STREAMS in one process', async () => {
    const org = t.createOrg();
    const members = [await t.createMember(org), await t.createMember(org)];
    const held = [];
    for (let i = 0; hub().open < 7; i++) held.push(await stream(members[i % 2]));
    const refused = await stream(await t.createMember(org));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.problem()).toMatchObject({
      status: 503,
      type: expect.stringMatching(/\/service-unavailable$/),
    });
    // Room again once a stream closes.
    held[0].close();
    await eventually(() => hub().open < 7, 5000, 'a stream to close');
    expect((await stream(members[0])).status).toBe(200);
  });

  it('closes a stream that does not read (its unsent output past EVENTS_MAX_BUFFER_BYTES); it resumes with Last-Event-ID', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread } = await newThread(t, alice, bob);
    await settle();
    const dropped = hub().droppedSlow;
    // A client that stops reading after the stream's first event.
    let response!: IncomingMessage;
    let text = '';
    let paused = false;
    const req = httpRequest(`${base}${API}/events`, { headers: bearer(bob) });
    await new Promise<void>((resolve) => {
      req.on('response', (res) => {
        response = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (!paused && text.includes('\n\n')) {
            paused = true;
            res.pause();
            resolve();
          }
        });
      });
      req.end();
    });
    // Large messages until the socket's buffers are full and the server gives up on it.
    const big = 'x'.repeat(99_000);
    const ids: string[] = [];
    for (let i = 0; i < 300 && hub().droppedSlow === dropped; i++) {
      ids.push((await sent(t, alice, thread.id, `${i} ${big}`)).id);
      if (i % 10 === 9) await drainOutbox(db);
    }
    await eventually(() => hub().droppedSlow > dropped, 10_000, 'the slow stream to close');
    // The connection is dropped: the client resumes from the last event it received whole.
    response.on('error', () => undefined);
    response.resume();
    await eventually(() => response.socket.destroyed, 5000, 'the connection to drop');
    const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
    const lastId = [...complete.matchAll(/^id: (.+)$/gm)].at(-1)![1];
    const receivedIds = [...complete.matchAll(/"message":\{"id":"([^"]+)"/g)].map((m) => m[1]);
    await settle();
    const resumed = await stream(bob, { lastEventId: lastId });
    await resumed.until(
      (c) => c.named('message.created').length >= ids.length - receivedIds.length,
      20_000,
      'the rest',
    );
    const rest = resumed
      .named<{ message: MessageJson }>('message.created')
      .map((c) => c.message.id);
    expect([...receivedIds, ...rest]).toEqual(ids);
  }, 60_000);

  it('counts opening a stream against the read rate limit, not the events it carries', async () => {
    const limited = await startTestApp({
      WORKER_ENABLED: 'true',
      RATE_LIMIT_READS_PER_SECOND: '3',
      RATE_LIMIT_REDIS_TIMEOUT_MS: '2000',
    });
    const local: SseClient[] = [];
    try {
      const url = await listen(limited);
      const org = limited.createOrg();
      const alice = await limited.createMember(org);
      const bob = await limited.createMember(org);
      const { thread } = await newThread(limited, alice, bob);
      // Three opens in one second pass, the fourth is limited.
      const opened = await Promise.all([0, 1, 2, 3].map(() => openStream(url, bob)));
      local.push(...opened);
      expect(opened.map((s) => s.status).sort()).toEqual([200, 200, 200, 429]);
      const refused = opened.find((s) => s.status === 429)!;
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Ten events on each open stream, then a read still passes.
      const live = opened.filter((s) => s.status === 200);
      await pause(1100);
      for (let i = 0; i < 10; i++) {
        expect((await send(limited, alice, thread.id, `m${i}`)).status).toBe(201);
      }
      for (const s of live) await s.waitFor('message.created', 10);
      await limited.http().get(`${API}/messages/unread-count`).set(bearer(bob)).expect(200);
    } finally {
      for (const s of local) s.close();
      await limited.close();
    }
  });

  it('closes every stream with a retry: hint on shutdown', async () => {
    const other = await startTestApp({ ...UNTHROTTLED });
    const url = await listen(other);
    const org = other.createOrg();
    const member = await other.createMember(org);
    const streams = [await openStream(url, member), await openStream(url, member)];
    for (const s of streams) await s.waitFor('unread.changed');
    await other.close();
    for (const s of streams) {
      await s.until((c) => c.ended, 5000, 'the stream to end');
      expect(s.retries).toEqual([1000]);
    }
  });
});

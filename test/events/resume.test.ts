import type { Client } from 'pg';
import { STREAM_TICKETS, type StreamTickets } from '../../src/platform/auth/stream-tickets';
import { drainOutbox, ownerClient, pause } from '../support/async';
import {
  API,
  deactivate,
  deleteMessage,
  expectProblem,
  markRead,
  newThread,
  sent,
  type MessageJson,
} from '../support/factories';
import { listen, openStream, SseClient, type SseEvent } from '../support/sse';
import { bearer, startTestApp, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';

/** Resume with Last-Event-ID, `reset`, and the tickets of EventSource clients (SPEC §4a). */
describe('event stream: resume and tickets', () => {
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

  const track = (s: SseClient) => {
    open.push(s);
    return s;
  };
  const stream = async (member: Member, options: Parameters<typeof openStream>[2] = {}) => {
    const s = track(await openStream(base, member, options));
    expect(s.status).toBe(200);
    await s.until((c) => c.events.length > 0, 5000, 'the first event');
    return s;
  };
  const settle = async () => {
    await drainOutbox(db);
    await pause(100);
  };
  /** What identifies an event apart from how it renders now: id, name, and what it is about. */
  const identity = (e: SseEvent) => {
    const data = e.data as {
      message?: MessageJson;
      messageId?: string;
      notification?: { id: string };
    };
    return [e.id, e.event, data.message?.id ?? data.messageId ?? data.notification?.id ?? null];
  };
  const ticketFor = async (member: Member) =>
    (await t.http().post(`${API}/events/tickets`).set(bearer(member)).expect(201)).body as {
      ticket: string;
      expiresAt: string;
    };
  const byTicket = async (ticket: string) =>
    track(await SseClient.open(`${base}/api/v1/events?ticket=${encodeURIComponent(ticket)}`));

  it('resumes after a disconnect with exactly the events missed, from PostgreSQL, then live', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { thread } = await newThread(t, alice, bob, 'first');
    await settle();
    // One stream stays connected throughout: the reference.
    const steady = await stream(bob);
    const flaky = await stream(bob);
    await sent(t, alice, thread.id, 'seen live');
    await settle();
    await flaky.waitFor('message.created');
    const lastSeen = flaky.lastId()!;
    flaky.close();

    // Missed while away: messages, a read, a notification, a deletion.
    const missed1 = await sent(t, alice, thread.id, 'missed 1');
    const missed2 = await sent(t, alice, thread.id, 'missed 2');
    await markRead(t, bob, thread.id);
    const missed3 = await sent(t, alice, thread.id, 'missed 3');
    expect((await deleteMessage(t, alice, thread.id, missed2.id)).status).toBe(204);
    await settle();

    const resumed = await stream(bob, { lastEventId: lastSeen });
    const after = steady.events.slice(steady.events.findIndex((e) => e.id === lastSeen) + 1);
    expect(after.length).toBeGreaterThanOrEqual(6);
    await resumed.until((c) => c.events.length >= after.length, 5000, 'the missed events');
    expect(resumed.events.map(identity)).toEqual(after.map(identity));
    // Resumed messages are rendered as they are now: the deleted one is a tombstone.
    const created = resumed.named<{ message: MessageJson }>('message.created');
    expect(created.map((c) => c.message.id)).toEqual([missed1.id, missed2.id, missed3.id]);
    expect(created[1].message).toMatchObject({ deleted: true, body: null });

    // Then live.
    const live = await sent(t, alice, thread.id, 'live again');
    await settle();
    await resumed.until(
      (c) =>
        c.named<{ message: MessageJson }>('message.created').some((m) => m.message.id === live.id),
      5000,
      'the live message',
    );
    expect(resumed.events.map(identity)).toEqual(
      steady.events.slice(steady.events.findIndex((e) => e.id === lastSeen) + 1).map(identity),
    );
  });

  it('takes the resume point as ?lastEventId= too (for clients that keep it across page loads)', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const first = await stream(bob);
    const { thread } = await newThread(t, alice, bob, 'one');
    await settle();
    first.close();
    const m = await sent(t, alice, thread.id, 'two');
    await settle();
    const resumed = await stream(bob, { query: `?lastEventId=${first.lastId()}` });
    await resumed.waitFor('message.created');
    expect(resumed.events[0].event).not.toBe('reset');
    expect(
      resumed.named<{ message: MessageJson }>('message.created').map((c) => c.message.id),
    ).toEqual([m.id]);
  });

  it('answers an unknown, foreign or expired id with reset first, then the current state', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const s = await stream(bob);
    const { thread } = await newThread(t, alice, bob, 'one');
    await settle();
    await s.waitFor('message.created');
    const [epoch, seq] = s.lastId()!.split('.');
    const aliceStream = await stream(alice);
    const foreignEpoch = aliceStream.lastId()!.split('.')[0];
    s.close();

    // Events older than the retention are gone (the maintenance job prunes them).
    await db.query(`delete from stream_events where user_id = $1 and seq <= 2`, [bob.userId]);
    for (const lastEventId of [
      'not-an-id',
      `${epoch}.${Number(seq) + 50}`, // from the future
      `${foreignEpoch === epoch ? 'ffffffff' : foreignEpoch}.${seq}`, // another life of the stream
      `${epoch}.1`, // pruned
    ]) {
      const r = await stream(bob, { lastEventId });
      await r.until((c) => c.events.length >= 2, 5000, 'reset and the count');
      expect(r.events.map((e) => e.event)).toEqual(['reset', 'unread.changed']);
      expect(r.events[0].data).toEqual({});
      expect(r.events[1].data).toEqual({ total: 1, threads: 1 });
      // The new position is current: the next event follows it.
      expect(r.events[1].id).toBe(`${epoch}.${seq}`);
      r.close();
    }
    expect(thread.id).toBeDefined();
  });

  it('opens one stream per ticket, bound to the member who bought it, within its lifetime', async () => {
    const org = t.createOrg();
    const alice = await t.createMember(org);
    const bob = await t.createMember(org);
    const { ticket, expiresAt } = await ticketFor(alice);
    const ttl = Date.parse(expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);

    const first = await byTicket(ticket);
    expect(first.status).toBe(200);
    await first.waitFor('unread.changed');
    // It is Alice's stream: her thread arrives on it.
    await newThread(t, bob, alice, 'to Alice');
    await settle();
    await first.waitFor('thread.created');

    // Used: refused, as problem details that do not say more than a bad ticket.
    const again = await byTicket(ticket);
    expect(again.status).toBe(401);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.problem()).toMatchObject({
      status: 401,
      type: expect.stringMatching(/\/unauthorized$/),
    });

    // Expired, forged, or not a ticket at all.
    const tickets = t.app.get<StreamTickets>(STREAM_TICKETS);
    const expired = tickets.issue(org, alice.userId, Date.now() - 61_000).ticket;
    const [payload, signature] = (await ticketFor(alice)).ticket.split('.');
    const forged = `${Buffer.from(
      Buffer.from(payload, 'base64url').toString().replace(alice.userId, bob.userId),
    ).toString('base64url')}.${signature}`;
    for (const bad of [expired, forged, 'x', `${payload}.${signature}.x`]) {
      const res = await byTicket(bad);
      expect({ bad, status: res.status }).toEqual({ bad, status: 401 });
      expect(res.problem()).toMatchObject({ status: 401 });
    }

    // A ticket of a member deactivated since opens nothing.
    const late = await ticketFor(bob);
    await deactivate(t, bob);
    const refused = await byTicket(late.ticket);
    expect(refused.status).toBe(403);

    // Tickets are bought with a token, and only open streams.
    const anonymous = await t.http().post(`${API}/events/tickets`);
    expectProblem(anonymous, 401, 'unauthorized');
    const second = await ticketFor(alice);
    const elsewhere = await t.http().get(`${API}/me?ticket=${second.ticket}`);
    expectProblem(elsewhere, 401, 'unauthorized');
  });
});

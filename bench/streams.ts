import { readFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { mintToken } from '../src/platform/auth/tokens';
import type { MemberRole } from '../src/platform/auth/roles';
import { withOwner } from './db';
import type { Fixtures } from './fixtures';
import { OperationSource, toHttp } from './scenarios';
import { Latencies } from './stats';

/**
 * The event stream under load (SPEC §5): how long a sent message takes to reach its recipient's
 * open streams while the send scenario runs, and what idle streams cost the API process.
 */

export interface StreamLatency {
  /** The sends' pace (per second overall), or null: as fast as the connections went. */
  paced: number | null;
  /** Streams open during the load, and the members holding them. */
  streams: number;
  members: number;
  seconds: number;
  /** Sends answered 201, and per second. */
  sends: number;
  sendRps: number;
  /** (message, recipient stream) pairs measured. */
  samples: number;
  /** Pairs that never arrived (within the grace period after the load). */
  missing: number;
  /** From the send's request to the event on the recipient's stream, in ms. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** The same from the send's response (after its commit), p99 in ms. */
  p99FromResponse: number;
  /** Events received on all streams during the load (the recipients', the senders'). */
  events: number;
}

export interface IdleStreams {
  streams: number;
  members: number;
  /** Seconds it took to open them all. */
  openSeconds: number;
  /** The API process's RSS with no stream open, and with them all open (settled), in MiB. */
  rssBeforeMiB: number;
  rssAfterMiB: number;
  deltaMiB: number;
  perStreamKiB: number;
}

interface StreamMember {
  orgId: string;
  userId: string;
  role: MemberRole;
  name: string;
  authorization: string;
}

/** A minimal event-stream reader: counts events and calls back on message.created. */
export class BenchStream {
  private buffer = '';
  private req?: ClientRequest;
  opened = false;
  ended = false;
  events = 0;

  constructor(
    private readonly url: string,
    private readonly member: StreamMember,
    private readonly onMessage?: (stream: BenchStream, data: string, at: number) => void,
  ) {}

  get userId(): string {
    return this.member.userId;
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.req = httpRequest(
        `${this.url}/api/v1/events`,
        {
          agent: false,
          headers: { authorization: this.member.authorization, accept: 'text/event-stream' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => reject(new Error(`stream answered ${res.statusCode}: ${body}`)));
            return;
          }
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => this.feed(chunk));
          res.on('close', () => (this.ended = true));
          // Open once the first event (the unread count) has arrived.
          const wait = setInterval(() => {
            if (this.events > 0 || this.ended) {
              clearInterval(wait);
              this.opened = true;
              if (this.ended) reject(new Error('stream closed before its first event'));
              else resolve();
            }
          }, 5);
        },
      );
      this.req.on('error', (error) => {
        this.ended = true;
        reject(error);
      });
      this.req.end();
    });
  }

  close(): void {
    this.req?.destroy();
  }

  private feed(chunk: string): void {
    const at = performance.now();
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      if (frame.startsWith(':')) continue;
      this.events++;
      if (this.onMessage && frame.includes('\nevent: message.created\n')) {
        const data = frame.slice(frame.indexOf('\ndata: ') + 7);
        this.onMessage(this, data, at);
      }
    }
  }
}

/** Opens streams with at most `concurrency` opening at once. */
export async function openAll(streams: BenchStream[], concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, streams.length) }, async () => {
      while (next < streams.length) await streams[next++].open();
    }),
  );
}

/** Members (with a token each) to hold streams: `count` of them, the recipients first. */
export async function streamMembers(
  ownerUrl: string,
  secret: string,
  where: string,
  params: unknown[],
): Promise<StreamMember[]> {
  return withOwner(ownerUrl, async (c) => {
    const { rows } = await c.query<Omit<StreamMember, 'authorization'>>(
      `select m.org_id as "orgId", m.user_id as "userId", m.role, m.display_name as name
         from memberships m where m.active and ${where}`,
      params,
    );
    return rows.map((m) => ({
      ...m,
      authorization: `Bearer ${mintToken(
        secret,
        { sub: m.userId, orgId: m.orgId, role: m.role, name: m.name },
        { expiresInSeconds: 12 * 3600 },
      )}`,
    }));
  });
}

/**
 * `streams` streams, held by the recipients of the load users' sendable threads (up to 5 each),
 * while the send scenario runs on those threads at `connections` connections for `seconds`:
 * every message is timed from its request to its arrival on each of the recipient's streams.
 */
export async function measureStreamLatency(o: {
  url: string;
  ownerUrl: string;
  secret: string;
  fixtures: Fixtures;
  streams: number;
  connections: number;
  seconds: number;
  tag: string;
  /** Paces the sends at this many a second overall (the default: as fast as the connections go). */
  rate?: number;
}): Promise<StreamLatency> {
  // The other participant of each sendable thread (who sees what is sent there).
  const threadIds = o.fixtures.sendable.map((t) => t.threadId);
  const senders = o.fixtures.sendable.map((t) => o.fixtures.users[t.user].userId);
  const recipientOf = await withOwner(o.ownerUrl, async (c) => {
    const { rows } = await c.query<{ threadId: string; senderId: string; userId: string }>(
      `select p.thread_id as "threadId", s.sender_id as "senderId", p.user_id as "userId"
         from unnest($1::uuid[], $2::uuid[]) as s(thread_id, sender_id)
         join thread_participants p on p.thread_id = s.thread_id and p.user_id <> s.sender_id
        -- A recipient who blocks the sender never sees the message (withheld): not timed.
        where not exists (select 1 from user_blocks b
                           where b.org_id = p.org_id and b.blocker_id = p.user_id
                             and b.blocked_id = s.sender_id)`,
      [threadIds, senders],
    );
    // By thread and sender: a thread between two load users is sendable both ways.
    return new Map(rows.map((r) => [`${r.threadId}/${r.senderId}`, r.userId]));
  });
  const recipient = (t: { threadId: string; user: number }) =>
    recipientOf.get(`${t.threadId}/${o.fixtures.users[t.user].userId}`);
  const recipientIds = [...new Set(recipientOf.values())];
  const perMember = Math.min(5, Math.max(1, Math.ceil(o.streams / recipientIds.length)));
  const memberCount = Math.ceil(o.streams / perMember);
  const members = await streamMembers(o.ownerUrl, o.secret, 'm.user_id = any($1::uuid[])', [
    recipientIds.slice(0, memberCount),
  ]);
  const streamed = new Set(members.map((m) => m.userId));

  const sentAt = new Map<string, number>(); // clientMessageId → request time
  const sent = new Map<string, { at: number; answeredAt: number; recipient: string }>(); // id →
  const arrivals = new Map<string, number[]>(); // message id → arrival times on recipient streams
  let measuring = true;
  const onMessage = (stream: BenchStream, data: string, at: number) => {
    if (!measuring) return;
    const { message } = JSON.parse(data) as { message: { id: string; sender: { userId: string } } };
    if (message.sender.userId === stream.userId) return;
    const list = arrivals.get(message.id) ?? [];
    list.push(at);
    arrivals.set(message.id, list);
  };
  const streams: BenchStream[] = [];
  for (let i = 0; i < o.streams; i++) {
    streams.push(new BenchStream(o.url, members[i % members.length], onMessage));
  }
  try {
    await openAll(streams, 50);
    const streamsOf = new Map<string, number>();
    for (const s of streams) streamsOf.set(s.userId, (streamsOf.get(s.userId) ?? 0) + 1);

    // The send scenario, on the threads whose recipient holds streams.
    const sendable = o.fixtures.sendable.filter((t) => streamed.has(recipient(t) ?? ''));
    const source = new OperationSource({ ...o.fixtures, sendable }, 'send', `s${o.tag}`);
    const recipientByKey = new Map<string, string>();
    const eventsBefore = streams.reduce((n, s) => n + s.events, 0);
    const result = await autocannon({
      url: o.url,
      connections: o.connections,
      duration: o.seconds,
      pipelining: 1,
      timeout: 10,
      ...(o.rate ? { overallRate: o.rate } : {}),
      requests: [
        {
          setupRequest: (request) => {
            const op = source.next();
            sentAt.set(op.clientMessageId!, performance.now());
            recipientByKey.set(op.clientMessageId!, recipient(op.thread!)!);
            return { ...request, ...toHttp(op) };
          },
          onResponse: (status: number, body: string) => {
            if (status !== 201) return;
            const { id, clientMessageId } = JSON.parse(body) as {
              id: string;
              clientMessageId: string;
            };
            sent.set(id, {
              at: sentAt.get(clientMessageId)!,
              answeredAt: performance.now(),
              recipient: recipientByKey.get(clientMessageId)!,
            });
          },
        },
      ],
    });
    // Grace: everything sent arrives, or 15 s pass.
    const expected = (id: string) => streamsOf.get(sent.get(id)!.recipient) ?? 0;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if ([...sent.keys()].every((id) => (arrivals.get(id)?.length ?? 0) >= expected(id))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    measuring = false;
    const fromRequest = new Latencies();
    const fromResponse = new Latencies();
    let missing = 0;
    for (const [id, s] of sent) {
      const got = arrivals.get(id) ?? [];
      missing += Math.max(0, expected(id) - got.length);
      for (const at of got) {
        fromRequest.add(at - s.at);
        fromResponse.add(Math.max(0, at - s.answeredAt));
      }
    }
    const latency = fromRequest.summary();
    return {
      paced: o.rate ?? null,
      streams: streams.length,
      members: members.length,
      seconds: result.duration,
      sends: sent.size,
      sendRps: sent.size / result.duration,
      samples: fromRequest.count,
      missing,
      ...latency,
      p99FromResponse: fromResponse.summary().p99,
      events: streams.reduce((n, s) => n + s.events, 0) - eventsBefore,
    };
  } finally {
    for (const s of streams) s.close();
  }
}

/** The API process's resident set, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

/**
 * Opens `count` idle streams (5 per member) on the API process `apiPid` and reports its RSS
 * before and after (settled: the process has had a few seconds and its pings).
 */
export async function measureIdleStreams(o: {
  url: string;
  ownerUrl: string;
  secret: string;
  apiPid: number;
  count: number;
}): Promise<IdleStreams> {
  const memberCount = Math.ceil(o.count / 5);
  const members = await streamMembers(o.ownerUrl, o.secret, 'true order by m.user_id limit $1', [
    memberCount,
  ]);
  if (members.length * 5 < o.count) {
    throw new Error(
      `${o.count} idle streams need ${memberCount} members; the data set has ${members.length}`,
    );
  }
  const settle = () => new Promise((r) => setTimeout(r, 3000));
  await settle();
  const rssBeforeMiB = rssMiB(o.apiPid);
  const streams = Array.from(
    { length: o.count },
    (_, i) => new BenchStream(o.url, members[i % members.length]),
  );
  const started = performance.now();
  try {
    await openAll(streams, 50);
    const openSeconds = (performance.now() - started) / 1000;
    await settle();
    const rssAfterMiB = rssMiB(o.apiPid);
    const open = streams.filter((s) => s.opened && !s.ended).length;
    if (open < o.count) throw new Error(`only ${open} of ${o.count} idle streams stayed open`);
    return {
      streams: o.count,
      members: members.length,
      openSeconds,
      rssBeforeMiB,
      rssAfterMiB,
      deltaMiB: rssAfterMiB - rssBeforeMiB,
      perStreamKiB: ((rssAfterMiB - rssBeforeMiB) * 1024) / o.count,
    };
  } finally {
    for (const s of streams) s.close();
  }
}

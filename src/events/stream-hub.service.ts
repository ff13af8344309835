import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import type { ParticipantView } from '../conversations/conversations.rows';
import { ConversationsService } from '../conversations/conversations.service';
import { NotificationsService } from '../notifications/notifications.service';
import { TenantRunner } from '../platform/tenancy/tenant-runner.service';
import { EventsRepository, type StoredStreamEvent } from './events.repository';
import { Fanout, type FanoutMessage } from './fanout.service';
import {
  formatEventId,
  parseEventId,
  sseFrame,
  type StreamEvent,
  type StreamEventData,
} from './stream-events';

/** Stored events read back per query when a stream resumes or catches up. */
const PAGE = 200;
/** How long a resuming stream may take nothing before it counts as one that cannot keep up. */
const DRAIN_TIMEOUT_MS = 30_000;
/** Live messages a stream holds while it reads back; beyond, it reads back again instead. */
const MAX_HELD = 1000;

interface OpenStream {
  id: string;
  orgId: string;
  userId: string;
  viewer: ParticipantView;
  raw: ServerResponse;
  epoch: string;
  /** The last sequence number this stream has sent (events at or below it are not sent again). */
  lastSeq: number;
  /** Live events that arrived while the stream was reading back from PostgreSQL. */
  held: { epoch: string; events: StreamEvent[] }[] | null;
  /** Live events were let go while reading back (too many held): read back again after. */
  overflow: boolean;
  closed: boolean;
  unsubscribe: () => void;
}

export interface OpenRequest {
  orgId: string;
  userId: string;
  viewer: ParticipantView;
  raw: ServerResponse;
  /** The response headers Fastify prepared (CORS, security, request id). */
  headers: Record<string, string | string[] | number | undefined>;
  lastEventId?: string;
}

/**
 * The event streams one API process holds (SPEC §4a). Each stream opens with the member's current
 * unread count, or resumes after Last-Event-ID from PostgreSQL (`reset` when that id is unknown or
 * too old), then sends live events from the member's fan-out channel, in sequence: a gap (a
 * publish that never came) is read back from PostgreSQL, and so is everything while Redis is away
 * (every EVENTS_FALLBACK_POLL_MS) and once it returns. Duplicates are never sent twice on one
 * stream; across reconnects delivery is at least once.
 *
 * Limits: EVENTS_MAX_STREAMS per process (the caller answers 503 beyond), a member's oldest stream
 * closes when they open more than EVENTS_MAX_STREAMS_PER_MEMBER (across processes while Redis
 * answers, in this process otherwise), and a stream whose unsent output grows past
 * EVENTS_MAX_BUFFER_BYTES is closed (the client resumes). `: ping` every EVENTS_PING_MS; on
 * shutdown each stream gets a `retry:` hint and closes.
 */
@Injectable()
export class StreamHub implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(StreamHub.name);
  private readonly members = new Map<string, Set<OpenStream>>();
  private count = 0;
  private timer?: NodeJS.Timeout;
  private poller?: NodeJS.Timeout;
  private stopState?: () => void;
  /** Streams closed because they could not keep up, since start (operations). */
  droppedSlow = 0;
  /** Events written to streams (live, read back and the opening count), since start (metrics). */
  eventsSent = 0;

  constructor(
    private readonly repo: EventsRepository,
    private readonly fanout: Fanout,
    private readonly tenants: TenantRunner,
    private readonly conversations: ConversationsService,
    private readonly notifications: NotificationsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.ping(), this.config.events.pingMs);
    this.timer.unref();
    this.stopState = this.fanout.onState((up) => {
      if (up) {
        this.stopPolling();
        this.catchUpAll();
      } else this.startPolling();
    });
    // Until the subscriber has connected once, PostgreSQL is the only source.
    this.startPolling();
  }

  get open(): number {
    return this.count;
  }

  hasRoom(): boolean {
    return this.count < this.config.events.maxStreams;
  }

  /** Starts a stream on `raw` (already authenticated); resolves once it is live. */
  async start(request: OpenRequest): Promise<void> {
    const stream: OpenStream = {
      id: randomBytes(8).toString('hex'),
      orgId: request.orgId,
      userId: request.userId,
      viewer: request.viewer,
      raw: request.raw,
      epoch: '',
      lastSeq: 0,
      held: [],
      overflow: false,
      closed: false,
      unsubscribe: () => undefined,
    };
    const key = memberKey(stream.orgId, stream.userId);
    // Subscribed before reading PostgreSQL, so nothing committed in between is missed.
    stream.unsubscribe = this.fanout.subscribe(stream.orgId, stream.userId, (m) =>
      this.onMessage(key, m),
    );
    const streams = this.members.get(key) ?? new Set<OpenStream>();
    streams.add(stream);
    this.members.set(key, streams);
    this.count++;
    request.raw.on('close', () => this.close(stream));

    request.raw.writeHead(200, {
      ...request.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies (nginx) must pass events on as they come.
      'x-accel-buffering': 'no',
    });
    request.raw.flushHeaders();
    void this.limitPerMember(stream);

    try {
      const cursor = await this.tenants.run({ orgId: stream.orgId, userId: stream.userId }, () =>
        this.repo.cursor(stream.orgId, stream.userId),
      );
      stream.epoch = cursor.epoch;
      const resumeFrom = parseEventId(request.lastEventId);
      const resumable =
        resumeFrom !== null &&
        resumeFrom.epoch === cursor.epoch &&
        resumeFrom.seq <= cursor.lastSeq &&
        (cursor.firstSeq === null
          ? resumeFrom.seq === cursor.lastSeq
          : resumeFrom.seq >= cursor.firstSeq - 1);
      if (resumable) {
        stream.lastSeq = resumeFrom.seq;
        await this.readBack(stream);
      } else {
        stream.lastSeq = cursor.lastSeq;
        const id = formatEventId(stream.epoch, stream.lastSeq);
        if (request.lastEventId !== undefined) this.write(stream, sseFrame(id, 'reset', {}));
        // The opening state: the member's unread count now, and an id to resume from.
        const counts = await this.tenants.run({ orgId: stream.orgId, userId: stream.userId }, () =>
          this.conversations.unreadCounts(stream.orgId, [stream.userId]),
        );
        this.write(stream, sseFrame(id, 'unread.changed', counts.get(stream.userId)));
        this.eventsSent++;
      }
      this.release(stream);
    } catch (error) {
      this.logger.warn(`event stream could not start: ${String(error)}`);
      this.close(stream);
    }
  }

  /** Before the HTTP server closes (it waits for open responses): every stream ends here. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.stopPolling();
    this.stopState?.();
    for (const streams of this.members.values()) {
      for (const stream of streams) {
        // Reconnect after a short pause, with Last-Event-ID (the browser does so by itself).
        this.write(stream, 'retry: 1000\n\n');
        this.close(stream);
      }
    }
    await Promise.resolve();
  }

  private onMessage(key: string, message: FanoutMessage): void {
    const streams = this.members.get(key);
    if (!streams) return;
    for (const stream of streams) {
      if (message.kind === 'close') {
        if (message.streams.includes(`${this.fanout.processId}/${stream.id}`)) this.close(stream);
      } else if (stream.held) {
        // They are in PostgreSQL too: past a bound, hold none and read back again.
        if (stream.held.length < MAX_HELD) stream.held.push(message);
        else stream.overflow = true;
      } else this.deliver(stream, message.epoch, message.events);
    }
  }

  /** Live events in order; a gap (a publish that never came) is read back from PostgreSQL. */
  private deliver(stream: OpenStream, epoch: string, events: StreamEvent[]): void {
    if (stream.closed) return;
    if (epoch !== stream.epoch) {
      // The member's stream started over (its cursor was lost): the client must refetch.
      stream.epoch = epoch;
      stream.lastSeq = 0;
      this.write(stream, sseFrame(formatEventId(epoch, 0), 'reset', {}));
    }
    for (const event of [...events].sort((a, b) => a.seq - b.seq)) {
      if (event.seq <= stream.lastSeq) continue;
      if (event.seq > stream.lastSeq + 1) {
        void this.catchUp(stream);
        return;
      }
      this.send(stream, event);
    }
  }

  private send(stream: OpenStream, event: StreamEvent, replay = false): void {
    if (!stream.closed) this.eventsSent++;
    stream.lastSeq = event.seq;
    const frame = sseFrame(formatEventId(stream.epoch, event.seq), event.event, event.data);
    this.write(stream, frame, replay);
  }

  /** Reads the stream's missed events back from PostgreSQL, then goes on with the live ones. */
  private async catchUp(stream: OpenStream): Promise<void> {
    if (stream.held || stream.closed) return;
    stream.held = [];
    try {
      await this.readBack(stream);
    } catch (error) {
      this.logger.warn(`event stream could not catch up: ${String(error)}`);
    }
    this.release(stream);
  }

  private async readBack(stream: OpenStream): Promise<void> {
    for (;;) {
      const rows = await this.tenants.run({ orgId: stream.orgId, userId: stream.userId }, () =>
        this.repo.after(stream.orgId, stream.userId, stream.lastSeq, PAGE),
      );
      if (!rows.length || stream.closed) return;
      for (const event of await this.render(stream, rows)) {
        if (stream.closed) return;
        this.send(stream, event, true);
        // Read back at the pace the client reads (a resume may be megabytes).
        if (stream.raw.writableLength > this.config.events.maxBufferBytes / 2) {
          await this.drained(stream);
        }
      }
      if (stream.closed) return;
      // A row that renders to nothing (no longer visible) still moves the stream on.
      stream.lastSeq = Math.max(stream.lastSeq, rows[rows.length - 1].seq);
      if (rows.length < PAGE) return;
    }
  }

  /** Stored events as the member's GET would show them now (text is never stored). */
  private render(stream: OpenStream, rows: StoredStreamEvent[]): Promise<StreamEvent[]> {
    const viewer = stream.userId;
    return this.tenants.run({ orgId: stream.orgId, userId: viewer }, async () => {
      const messages = await this.conversations.messagesAsSeenBy(
        rows
          .filter((r) => r.type === 'message.created' && r.messageId)
          .map((r) => ({ viewerId: viewer, messageId: r.messageId! })),
      );
      const notifications = await this.notifications.asSeenByOwners(
        stream.orgId,
        rows.filter((r) => r.notificationId).map((r) => r.notificationId!),
      );
      const events: StreamEvent[] = [];
      for (const row of rows) {
        const data = await this.renderOne(stream, row, messages, notifications);
        if (data) events.push({ seq: row.seq, event: row.type, data } as StreamEvent);
      }
      return events;
    });
  }

  private async renderOne(
    stream: OpenStream,
    row: StoredStreamEvent,
    messages: Map<string, StreamEventData['message.created']['message']>,
    notifications: Awaited<ReturnType<NotificationsService['asSeenByOwners']>>,
  ): Promise<unknown> {
    switch (row.type) {
      case 'message.created': {
        const message = messages.get(`${stream.userId}/${row.messageId}`);
        return message ? { threadId: row.threadId, message } : null;
      }
      case 'thread.created': {
        const thread = await this.conversations.threadAsSeenBy(stream.viewer, row.threadId!);
        return thread ? { thread } : null;
      }
      case 'notification.created': {
        const found = notifications.get(row.notificationId!);
        return found && found.userId === stream.userId
          ? { notification: found.notification }
          : null;
      }
      case 'message.deleted':
      case 'message.read':
      case 'unread.changed':
        return row.data;
    }
  }

  /** Sends what arrived live while the stream read back, and goes live. */
  private release(stream: OpenStream): void {
    const held = stream.held ?? [];
    stream.held = null;
    if (stream.overflow) {
      stream.overflow = false;
      void this.catchUp(stream);
      return;
    }
    for (const message of held) this.deliver(stream, message.epoch, message.events);
  }

  private async limitPerMember(stream: OpenStream): Promise<void> {
    const limit = this.config.events.maxStreamsPerMember;
    await this.fanout.heartbeat();
    const excess = await this.fanout.register(stream.orgId, stream.userId, stream.id, limit);
    if (excess === null) {
      // Redis is away: hold the limit within this process.
      const local = [...(this.members.get(memberKey(stream.orgId, stream.userId)) ?? [])];
      for (const old of local.slice(0, Math.max(0, local.length - limit))) this.close(old);
      return;
    }
    const here = excess.filter((e) => e.startsWith(`${this.fanout.processId}/`));
    for (const s of this.members.get(memberKey(stream.orgId, stream.userId)) ?? []) {
      if (here.includes(`${this.fanout.processId}/${s.id}`)) this.close(s);
    }
    const elsewhere = excess.filter((e) => !here.includes(e));
    if (elsewhere.length) await this.fanout.close(stream.orgId, stream.userId, elsewhere);
  }

  /**
   * Waits until the client has taken what was written; a client that takes nothing for
   * DRAIN_TIMEOUT_MS cannot keep up, and is dropped.
   */
  private drained(stream: OpenStream): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stream.raw.off('drain', done);
        stream.raw.off('close', done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.droppedSlow++;
        this.close(stream, 'drop');
        done();
      }, DRAIN_TIMEOUT_MS);
      stream.raw.once('drain', done);
      stream.raw.once('close', done);
    });
  }

  /** Writes a frame; live output that piles up past EVENTS_MAX_BUFFER_BYTES drops the stream. */
  private write(stream: OpenStream, frame: string, replay = false): void {
    if (stream.closed) return;
    stream.raw.write(frame);
    if (!replay && stream.raw.writableLength > this.config.events.maxBufferBytes) {
      // It cannot keep up: drop the connection (and what waits for it) rather than end it after
      // its backlog. The client resumes with the last id it received whole.
      this.droppedSlow++;
      this.close(stream, 'drop');
    }
  }

  private close(stream: OpenStream, how: 'end' | 'drop' = 'end'): void {
    if (stream.closed) return;
    stream.closed = true;
    stream.unsubscribe();
    const key = memberKey(stream.orgId, stream.userId);
    const streams = this.members.get(key);
    if (streams?.delete(stream)) this.count--;
    if (streams && !streams.size) this.members.delete(key);
    if (how === 'drop') stream.raw.destroy();
    else if (!stream.raw.writableEnded) stream.raw.end();
    void this.fanout.unregister(stream.orgId, stream.userId, stream.id);
  }

  private ping(): void {
    if (this.count) void this.fanout.heartbeat();
    for (const streams of this.members.values()) {
      for (const stream of streams) this.write(stream, ': ping\n\n');
    }
  }

  private catchUpAll(): void {
    for (const streams of this.members.values()) {
      for (const stream of streams) void this.catchUp(stream);
    }
  }

  private startPolling(): void {
    if (this.poller) return;
    this.poller = setInterval(() => this.catchUpAll(), this.config.events.fallbackPollMs);
    this.poller.unref();
  }

  private stopPolling(): void {
    clearInterval(this.poller);
    this.poller = undefined;
  }
}

function memberKey(orgId: string, userId: string): string {
  return `${orgId}/${userId}`;
}

import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { TestApp } from './test-app';

export interface SseEvent {
  id?: string;
  event: string;
  data: unknown;
}

/**
 * An event-stream client for tests: reads the frames of `GET /api/v1/events` as they come
 * (fields per the HTML standard), keeps every event and comment, and lets a test wait for what it
 * expects.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  readonly retries: number[] = [];
  status = 0;
  headers: IncomingMessage['headers'] = {};
  body = '';
  ended = false;
  private buffer = '';
  private waiters: (() => void)[] = [];
  private req?: ClientRequest;

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    await client.connect(url, headers);
    return client;
  }

  private connect(url: string, headers: Record<string, string>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.req = httpRequest(
        url,
        { headers: { accept: 'text/event-stream', ...headers } },
        (res) => {
          this.status = res.statusCode ?? 0;
          this.headers = res.headers;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (this.status !== 200) this.body += chunk;
            else this.feed(chunk);
          });
          res.on('end', () => this.finish());
          res.on('close', () => this.finish());
          resolve();
        },
      );
      this.req.on('error', (error) => {
        this.finish();
        reject(error);
      });
      this.req.end();
    });
  }

  /** The parsed JSON body of a refused (non-200) answer. */
  problem(): Record<string, unknown> {
    return JSON.parse(this.body || '{}') as Record<string, unknown>;
  }

  /** The last event id received (what a reconnect sends as Last-Event-ID). */
  lastId(): string | undefined {
    return [...this.events].reverse().find((e) => e.id !== undefined)?.id;
  }

  /** Events named `name` (all of them, in order). */
  named<T = Record<string, unknown>>(name: string): T[] {
    return this.events.filter((e) => e.event === name).map((e) => e.data as T);
  }

  /** Waits until `predicate` holds for what was received, or fails after `timeoutMs`. */
  async until(
    predicate: (c: SseClient) => boolean,
    timeoutMs = 10_000,
    what = 'events',
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; received ${JSON.stringify(this.events.map((e) => e.event))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until at least `n` events named `name` have arrived. */
  waitFor(name: string, n = 1, timeoutMs = 10_000): Promise<void> {
    return this.until((c) => c.named(name).length >= n, timeoutMs, `${n} × ${name}`);
  }

  close(): void {
    this.req?.destroy();
    this.finish();
  }

  private finish(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const waiters = this.waiters.splice(0);
    for (const w of waiters) w();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        fields[name] = fields[name] === undefined ? value : `${fields[name]}\n${value}`;
      }
      if (fields.retry !== undefined) this.retries.push(Number(fields.retry));
      if (fields.event !== undefined || fields.data !== undefined) {
        this.events.push({
          ...(fields.id !== undefined ? { id: fields.id } : {}),
          event: fields.event ?? 'message',
          data: fields.data === undefined ? undefined : (JSON.parse(fields.data) as unknown),
        });
      }
    }
    this.notify();
  }
}

/**
 * A superagent parser for routes that may answer with an event stream: reads a body as text,
 * except an event stream, which it closes once it answered (its status and headers are the
 * answer). `req.buffer(true).parse(untilEventStream as never)`.
 */
export function untilEventStream(
  res: IncomingMessage,
  done: (error: Error | null, body: string) => void,
): void {
  if (String(res.headers['content-type']).startsWith('text/event-stream')) {
    res.destroy();
    done(null, '');
    return;
  }
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => (text += chunk));
  res.on('end', () => done(null, text));
}

/** The app listening on a port of 127.0.0.1 (event streams need a real connection). */
export async function listen(t: TestApp): Promise<string> {
  const server = t.app.getHttpServer();
  if (!server.listening) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

/** Opens a member's stream with their bearer token. */
export async function openStream(
  base: string,
  member: { token: string },
  options: { lastEventId?: string; query?: string } = {},
): Promise<SseClient> {
  const headers: Record<string, string> = { authorization: `Bearer ${member.token}` };
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  return SseClient.open(`${base}/api/v1/events${options.query ?? ''}`, headers);
}

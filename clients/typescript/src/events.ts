import type { components } from './schema.js';
import { ProblemError } from './problem.js';

type Schemas = components['schemas'];

/** The data of each event of the stream (SPEC §4a), by event name. */
export interface StreamEventData {
  'thread.created': Schemas['ThreadCreatedEvent'];
  'message.created': Schemas['MessageCreatedEvent'];
  'message.deleted': Schemas['MessageDeletedEvent'];
  'message.read': Schemas['MessageReadEvent'];
  'unread.changed': Schemas['UnreadChangedEvent'];
  'notification.created': Schemas['NotificationCreatedEvent'];
  /** The id you resumed from is unknown or too old: refetch what you show, then go on. */
  reset: Schemas['ResetEvent'];
}

export type StreamEventName = keyof StreamEventData;

/** One event of the stream; `id` is what to resume after (`lastEventId`). */
export type StreamEvent = {
  [E in StreamEventName]: { id: string; event: E; data: StreamEventData[E] };
}[StreamEventName];

export interface EventsOptions {
  /** Resume after this id (the last event you handled): the missed events come first. */
  lastEventId?: string;
  /** Ends the stream (the iterator returns). */
  signal?: AbortSignal;
  /** First reconnect delay in ms (default 1000, or the server's `retry:`); doubles to 30 s. */
  reconnectDelayMs?: number;
  /** Called on each reconnect after a lost connection, with the delay and the reason. */
  onReconnect?: (info: { delayMs: number; error: unknown }) => void;
}

export interface StreamTransport {
  url: string;
  fetch: typeof fetch;
  headers: () => Promise<Record<string, string>>;
}

const MAX_DELAY_MS = 30_000;

/**
 * The event stream as an async iterator. It reconnects by itself (with `Last-Event-ID`, so
 * nothing is missed, and a delay that starts at the server's `retry:` hint and doubles up to 30 s
 * while the server cannot be reached), and yields `reset` when the server could not resume.
 * It throws a ProblemError when the server refuses the stream (401, 403, …) and returns when
 * `signal` aborts.
 */
export async function* streamEvents(
  transport: StreamTransport,
  options: EventsOptions = {},
): AsyncGenerator<StreamEvent, void, undefined> {
  let lastEventId = options.lastEventId;
  let baseDelay = options.reconnectDelayMs ?? 1000;
  let delay = baseDelay;
  const signal = options.signal;
  while (!signal?.aborted) {
    let response: Response;
    try {
      const headers: Record<string, string> = {
        accept: 'text/event-stream',
        ...(await transport.headers()),
      };
      if (lastEventId) headers['last-event-id'] = lastEventId;
      response = await transport.fetch(transport.url, { headers, signal, cache: 'no-store' });
    } catch (error) {
      if (signal?.aborted) return;
      await wait(delay, signal, options, error);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      continue;
    }
    if (!response.ok) {
      const body: unknown = await response.json().catch(() => undefined);
      const problem = ProblemError.from(response, body);
      // Overloaded or limited: wait as told and try again. Anything else is for the caller.
      if (response.status === 429 || response.status === 503) {
        await wait((problem.retryAfter ?? delay / 1000) * 1000, signal, options, problem);
        delay = Math.min(delay * 2, MAX_DELAY_MS);
        continue;
      }
      throw problem;
    }
    delay = baseDelay;
    try {
      for await (const message of parseSse(response.body as ReadableStream<Uint8Array>, signal)) {
        if (message.retry !== undefined) baseDelay = delay = message.retry;
        if (message.id) lastEventId = message.id;
        if (!message.event || message.data === undefined) continue;
        const data: unknown = JSON.parse(message.data);
        yield { id: message.id ?? lastEventId ?? '', event: message.event, data } as StreamEvent;
      }
      // The server ended the stream (a restart, a dropped slow stream): resume at once.
      if (signal?.aborted) return;
      await wait(delay, signal, options, new Error('the stream ended'));
    } catch (error) {
      if (signal?.aborted) return;
      await wait(delay, signal, options, error);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}

interface SseMessage {
  id?: string;
  event?: StreamEventName;
  data?: string;
  retry?: number;
}

/** Server-Sent Events framing (the parts the stream uses: id, event, data, retry, comments). */
export async function* parseSse(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  let buffer = '';
  let current: SseMessage = {};
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r\n|\n|\r/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          if (current.data !== undefined || current.retry !== undefined || current.id) {
            yield current;
          }
          current = {};
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data')
          current.data = current.data === undefined ? value : `${current.data}\n${value}`;
        else if (field === 'event') current.event = value as StreamEventName;
        else if (field === 'id') current.id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) current.retry = Number(value);
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}

function wait(
  ms: number,
  signal: AbortSignal | undefined,
  options: EventsOptions,
  error: unknown,
): Promise<void> {
  options.onReconnect?.({ delayMs: ms, error });
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

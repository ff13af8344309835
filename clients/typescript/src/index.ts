import createClient from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';
import { parseRetryAfter, ProblemError } from './problem.js';
import { streamEvents, type EventsOptions, type StreamEvent } from './events.js';

export { ProblemError, parseRetryAfter } from './problem.js';
export type { FieldError, ProblemDetails } from './problem.js';
export { parseSse, streamEvents } from './events.js';
export type { EventsOptions, StreamEvent, StreamEventData, StreamEventName } from './events.js';
export type { components, operations, paths } from './schema.js';

type Schemas = components['schemas'];
export type Message = Schemas['MessageResponse'];
export type Thread = Schemas['ThreadResponse'];
export type ThreadPage = Schemas['ThreadPageResponse'];
export type ThreadView = Schemas['ThreadViewResponse'];
export type MessagePage = Schemas['MessagePageResponse'];
export type StartThreadResult = Schemas['StartThreadResponse'];
export type UnreadCount = Schemas['UnreadCountResponse'];
export type Membership = Schemas['MembershipResponse'];
export type MemberSummary = Schemas['MemberSummary'];
export type RecipientPage = Schemas['RecipientPageResponse'];
export type BlockedUserPage = Schemas['BlockedUserPageResponse'];
export type Block = Schemas['BlockResponse'];
export type ReadReceipt = Schemas['ReadResponse'];
export type Notification = Schemas['NotificationResponse'];
export type NotificationPage = Schemas['NotificationPageResponse'];

/** The query of an operation (its optional `?…` parameters). */
export type QueryOf<Op extends keyof operations> = NonNullable<
  operations[Op]['parameters']['query']
>;
/** The JSON body an operation takes. */
export type BodyOf<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export interface MessagingClientOptions {
  /** Where the API is, e.g. `http://localhost:3000` (the `/api/v1` prefix is added). */
  baseUrl: string;
  /** The member's bearer token, read on every request (so a refreshed token is used at once). */
  getToken: () => string | null | undefined | Promise<string | null | undefined>;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /**
   * Retries: 429 and 503 answers are retried after their `Retry-After` (bounded by
   * `maxDelayMs`), and requests that are safe to repeat also after a network failure.
   * Default: 3 retries, at most 10 s apart.
   */
  retry?: { retries?: number; maxDelayMs?: number };
  /**
   * Conditional GETs: the client keeps the last answer of each GET (per token and URL, the
   * `conditionalGets` most recent ones, default 100) with its `ETag`, asks again with
   * `If-None-Match`, and on 304 answers the kept body: an unchanged page is neither transferred
   * nor parsed twice by the server's side of the wire. 0 turns it off.
   */
  conditionalGets?: number;
}

/** Operations that must not be repeated blindly after a network failure (they create). */
const NOT_REPEATABLE = [
  /\/webhooks\/endpoints$/,
  /\/rotate-secret$/,
  /\/deliveries\/[^/]+\/retry$/,
  /\/events\/tickets$/,
];

/** The last 200 answers of GETs that carried an ETag, most recently used last. */
class KeptAnswers {
  private readonly answers = new Map<string, { tag: string; body: string; headers: Headers }>();
  constructor(private readonly max: number) {}

  /** Per token and URL: another member's answer is never offered as this one's. */
  key(request: Request): string | null {
    return this.max > 0 ? `${request.headers.get('authorization') ?? ''} ${request.url}` : null;
  }

  get(key: string) {
    const answer = this.answers.get(key);
    if (answer) {
      this.answers.delete(key);
      this.answers.set(key, answer);
    }
    return answer;
  }

  /** A 304 becomes the kept 200; a new 200 with an ETag is kept. */
  async settle(
    key: string,
    earlier: { tag: string; body: string; headers: Headers } | undefined,
    response: Response,
  ): Promise<Response> {
    if (response.status === 304 && earlier) {
      return new Response(earlier.body, { status: 200, headers: earlier.headers });
    }
    const tag = response.headers.get('etag');
    if (response.status !== 200 || !tag) {
      this.answers.delete(key);
      return response;
    }
    const body = await response.text();
    this.answers.delete(key);
    this.answers.set(key, { tag, body, headers: new Headers(response.headers) });
    while (this.answers.size > this.max) this.answers.delete(this.answers.keys().next().value!);
    return new Response(body, { status: 200, headers: response.headers });
  }
}

/** A clientMessageId for a send: a retried send then cannot create a second message. */
export function newClientMessageId(): string {
  return globalThis.crypto.randomUUID();
}

export function createMessagingClient(options: MessagingClientOptions) {
  const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const retries = options.retry?.retries ?? 3;
  const maxDelayMs = options.retry?.maxDelayMs ?? 10_000;
  const root = options.baseUrl.replace(/\/+$/, '');
  const kept = new KeptAnswers(options.conditionalGets ?? 100);

  const authHeaders = async (): Promise<Record<string, string>> => {
    const token = await options.getToken();
    return token ? { authorization: `Bearer ${token}` } : {};
  };

  /** fetch with the bearer token and the retry policy. */
  const fetchWithRetry = async (input: Request): Promise<Response> => {
    const repeatable = input.method !== 'POST' || !NOT_REPEATABLE.some((r) => r.test(input.url));
    for (let attempt = 0; ; attempt++) {
      const request = input.clone();
      for (const [k, v] of Object.entries(await authHeaders())) request.headers.set(k, v);
      const key = request.method === 'GET' ? kept.key(request) : null;
      const earlier = key === null ? undefined : kept.get(key);
      if (earlier) request.headers.set('if-none-match', earlier.tag);
      let response: Response;
      try {
        response = await baseFetch(request);
        if (key !== null) response = await kept.settle(key, earlier, response);
      } catch (error) {
        if (!repeatable || attempt >= retries || request.signal?.aborted) throw error;
        await sleep(Math.min(maxDelayMs, 250 * 2 ** attempt));
        continue;
      }
      if ((response.status === 429 || response.status === 503) && attempt < retries) {
        const after = parseRetryAfter(response.headers.get('retry-after'));
        const delay = after === undefined ? 500 * 2 ** attempt : after * 1000;
        if (delay <= maxDelayMs) {
          await response.body?.cancel().catch(() => undefined);
          await sleep(delay);
          continue;
        }
      }
      return response;
    }
  };

  const http = createClient<paths>({
    baseUrl: root,
    fetch: fetchWithRetry,
  });

  /** The body of a 2xx answer, or a ProblemError. */
  const unwrap = async <T>(
    call: Promise<{ data?: T; error?: unknown; response: Response }>,
  ): Promise<T> => {
    const { data, error, response } = await call;
    if (!response.ok) throw ProblemError.from(response, error);
    return data as T;
  };
  /** For 204 answers. */
  const done = async (call: Promise<{ error?: unknown; response: Response }>): Promise<void> => {
    const { error, response } = await call;
    if (!response.ok) throw ProblemError.from(response, error);
  };

  return {
    // Conversations
    listThreads: (query: QueryOf<'listThreads'> = {}) =>
      unwrap(http.GET('/api/v1/messages/threads', { params: { query } })),
    /** Starts (or finds) the thread with `recipientId`; with a body, sends it as the first message. */
    startThread: (body: BodyOf<'startThread'>) =>
      unwrap(
        http.POST('/api/v1/messages/threads', {
          body:
            body.body !== undefined
              ? { ...body, clientMessageId: body.clientMessageId ?? newClientMessageId() }
              : body,
        }),
      ),
    getThread: (threadId: string, query: QueryOf<'getThread'> = {}) =>
      unwrap(
        http.GET('/api/v1/messages/threads/{id}', { params: { path: { id: threadId }, query } }),
      ),
    listMessages: (threadId: string, query: QueryOf<'listMessages'> = {}) =>
      unwrap(
        http.GET('/api/v1/messages/threads/{id}/messages', {
          params: { path: { id: threadId }, query },
        }),
      ),
    /** Sends with `clientMessageId` (generated when absent): retrying can never duplicate. */
    sendMessage: (threadId: string, body: BodyOf<'sendMessage'>) =>
      unwrap(
        http.POST('/api/v1/messages/threads/{id}/messages', {
          params: { path: { id: threadId } },
          body: { ...body, clientMessageId: body.clientMessageId ?? newClientMessageId() },
        }),
      ),
    deleteMessage: (threadId: string, messageId: string) =>
      done(
        http.DELETE('/api/v1/messages/threads/{id}/messages/{messageId}', {
          params: { path: { id: threadId, messageId } },
        }),
      ),
    markRead: (threadId: string, body: BodyOf<'markRead'> = {}) =>
      unwrap(
        http.POST('/api/v1/messages/threads/{id}/read', {
          params: { path: { id: threadId } },
          body,
        }),
      ),
    getUnreadCount: () => unwrap(http.GET('/api/v1/messages/unread-count')),
    listRecipients: (query: QueryOf<'listRecipients'> = {}) =>
      unwrap(http.GET('/api/v1/messages/recipients', { params: { query } })),

    // Blocks
    blockUser: (userId: string) =>
      unwrap(http.POST('/api/v1/messages/users/{id}/block', { params: { path: { id: userId } } })),
    unblockUser: (userId: string) =>
      done(http.DELETE('/api/v1/messages/users/{id}/block', { params: { path: { id: userId } } })),
    listBlockedUsers: (query: QueryOf<'listBlockedUsers'> = {}) =>
      unwrap(http.GET('/api/v1/messages/users/blocked', { params: { query } })),

    // Me
    getMe: () => unwrap(http.GET('/api/v1/me')),
    updateMySettings: (body: BodyOf<'updateMySettings'>) =>
      unwrap(http.PATCH('/api/v1/me/settings', { body })),

    // Notifications
    listNotifications: (query: QueryOf<'listNotifications'> = {}) =>
      unwrap(http.GET('/api/v1/notifications', { params: { query } })),
    markNotificationRead: (notificationId: string) =>
      unwrap(
        http.POST('/api/v1/notifications/{id}/read', {
          params: { path: { id: notificationId } },
        }),
      ),
    markAllNotificationsRead: () => unwrap(http.POST('/api/v1/notifications/read-all')),

    // Webhooks (org admins)
    listWebhookEndpoints: (query: QueryOf<'listWebhookEndpoints'> = {}) =>
      unwrap(http.GET('/api/v1/webhooks/endpoints', { params: { query } })),
    createWebhookEndpoint: (body: BodyOf<'createWebhookEndpoint'>) =>
      unwrap(http.POST('/api/v1/webhooks/endpoints', { body })),
    getWebhookEndpoint: (endpointId: string) =>
      unwrap(http.GET('/api/v1/webhooks/endpoints/{id}', { params: { path: { id: endpointId } } })),
    updateWebhookEndpoint: (endpointId: string, body: BodyOf<'updateWebhookEndpoint'>) =>
      unwrap(
        http.PATCH('/api/v1/webhooks/endpoints/{id}', {
          params: { path: { id: endpointId } },
          body,
        }),
      ),
    deleteWebhookEndpoint: (endpointId: string) =>
      done(
        http.DELETE('/api/v1/webhooks/endpoints/{id}', { params: { path: { id: endpointId } } }),
      ),
    rotateWebhookSecret: (endpointId: string) =>
      unwrap(
        http.POST('/api/v1/webhooks/endpoints/{id}/rotate-secret', {
          params: { path: { id: endpointId } },
        }),
      ),
    listWebhookDeliveries: (endpointId: string, query: QueryOf<'listWebhookDeliveries'> = {}) =>
      unwrap(
        http.GET('/api/v1/webhooks/endpoints/{id}/deliveries', {
          params: { path: { id: endpointId }, query },
        }),
      ),
    listDeliveryAttempts: (deliveryId: string) =>
      unwrap(
        http.GET('/api/v1/webhooks/deliveries/{id}/attempts', {
          params: { path: { id: deliveryId } },
        }),
      ),
    retryWebhookDelivery: (deliveryId: string) =>
      unwrap(
        http.POST('/api/v1/webhooks/deliveries/{id}/retry', {
          params: { path: { id: deliveryId } },
        }),
      ),

    // Provisioning (service tokens)
    provisionMember: (orgId: string, userId: string, body: BodyOf<'provisionMember'>) =>
      unwrap(
        http.PUT('/api/v1/admin/orgs/{orgId}/members/{userId}', {
          params: { path: { orgId, userId } },
          body,
        }),
      ),
    deactivateMember: (orgId: string, userId: string) =>
      done(
        http.DELETE('/api/v1/admin/orgs/{orgId}/members/{userId}', {
          params: { path: { orgId, userId } },
        }),
      ),

    // The event stream (SPEC §4a)
    createEventTicket: () => unwrap(http.POST('/api/v1/events/tickets')),
    /**
     * The member's events as they happen: `for await (const e of api.events({ signal }))`.
     * Reconnects by itself with Last-Event-ID; yields `reset` when it could not resume.
     */
    events: (eventOptions: EventsOptions = {}): AsyncGenerator<StreamEvent, void, undefined> =>
      streamEvents(
        { url: `${root}/api/v1/events`, fetch: baseFetch, headers: authHeaders },
        eventOptions,
      ),
  };
}

export type MessagingClient = ReturnType<typeof createMessagingClient>;

/** A member of the demo org a development server seeds (DEV_SEED). */
export interface DemoMember {
  orgId: string;
  userId: string;
  displayName: string;
  role: Schemas['MemberRole'];
}

/**
 * Development only: the demo members of a server started with `npm start` (the web app's sign-in
 * picker). A production server answers 404 (ProblemError).
 */
export async function listDemoMembers(
  baseUrl: string,
  fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<DemoMember[]> {
  const response = await fetchImpl(`${baseUrl.replace(/\/+$/, '')}/api/v1/dev/members`);
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw ProblemError.from(response, body);
  return body as DemoMember[];
}

/** Development only: a token for one of the demo members (12 h). */
export async function createDevToken(
  baseUrl: string,
  userId: string,
  fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<{ token: string }> {
  const response = await fetchImpl(`${baseUrl.replace(/\/+$/, '')}/api/v1/dev/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw ProblemError.from(response, body);
  return body as { token: string };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import type { Fixtures, LoadThread, LoadUser } from './fixtures';

export type ScenarioName =
  'send' | 'thread-page' | 'after-poll' | 'thread-list' | 'unread-count' | 'mixed';

export type OperationKind = Exclude<ScenarioName, 'mixed'>;

export interface Target {
  /** Minimum req/s (SPEC §5), when the SPEC names one. */
  rps?: number;
  /** Maximum p99 in ms. */
  p99Ms?: number;
}

export interface Scenario {
  name: ScenarioName;
  label: string;
  route: string;
  target: Target;
}

/** The scenarios, in the order they run, with their SPEC §5 targets. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'send',
    label: 'send message',
    route: 'POST /api/v1/messages/threads/{id}/messages',
    target: { rps: 2000, p99Ms: 50 },
  },
  {
    name: 'thread-page',
    label: 'thread page',
    route: 'GET /api/v1/messages/threads/{id}',
    target: { rps: 4000, p99Ms: 50 },
  },
  {
    name: 'after-poll',
    label: '`after` polling',
    route: 'GET /api/v1/messages/threads/{id}/messages?after=',
    target: { p99Ms: 50 },
  },
  {
    name: 'thread-list',
    label: 'thread list',
    route: 'GET /api/v1/messages/threads',
    target: { rps: 2500, p99Ms: 50 },
  },
  {
    name: 'unread-count',
    label: 'unread count',
    route: 'GET /api/v1/messages/unread-count',
    target: { rps: 4000, p99Ms: 50 },
  },
  {
    name: 'mixed',
    label: 'mixed 80 % reads / 20 % sends',
    route: '20 % send, 20 % each read above',
    target: {},
  },
];

export function scenario(name: ScenarioName): Scenario {
  return SCENARIOS.find((s) => s.name === name)!;
}

/** One operation to perform: who, where, and for sends the body and idempotency key. */
export interface Operation {
  kind: OperationKind;
  user: LoadUser;
  thread: LoadThread | null;
  body?: string;
  clientMessageId?: string;
}

/** Message bodies the load sends (the ejabberd comparison sends the same). */
export const PHRASES = [
  'On my way up.',
  'Did the plumber come by today?',
  'Thanks a lot!',
  'The laundry room on floor 2 has a broken dryer, I left a note on it.',
  'Can I borrow your ladder on Saturday morning? I will bring it back before noon.',
  'See you at the residents’ meeting tomorrow at 7 pm.',
  'ok 👍',
  'Your parcel is with me, knock whenever you are home.',
];

/**
 * Draws operations for a scenario: uniformly over the load users, or over their threads (so
 * requests spread over hundreds of users and thousands of threads). Send keys are unique per run
 * (`prefix` + a counter).
 */
export class OperationSource {
  private counter = 0;

  constructor(
    private readonly fixtures: Fixtures,
    private readonly name: ScenarioName,
    private readonly prefix: string,
    private readonly random: () => number = Math.random,
  ) {
    if (!fixtures.sendable.length || !fixtures.pollable.length || !fixtures.users.length) {
      throw new Error('the data set has no sendable or pollable threads for the load users');
    }
  }

  next(): Operation {
    return this.make(this.name === 'mixed' ? this.mixedKind() : this.name);
  }

  private mixedKind(): OperationKind {
    const r = this.random();
    if (r < 0.2) return 'send';
    if (r < 0.4) return 'thread-page';
    if (r < 0.6) return 'after-poll';
    if (r < 0.8) return 'thread-list';
    return 'unread-count';
  }

  private make(kind: OperationKind): Operation {
    const { users, threads, sendable, pollable } = this.fixtures;
    switch (kind) {
      case 'send': {
        const thread = this.pick(sendable);
        const n = ++this.counter;
        const body = `${this.pick(PHRASES)} (${n})`;
        return {
          kind,
          user: users[thread.user],
          thread,
          body,
          clientMessageId: `${this.prefix}-${n}`,
        };
      }
      case 'thread-page': {
        const thread = this.pick(threads);
        return { kind, user: users[thread.user], thread };
      }
      case 'after-poll': {
        const thread = this.pick(pollable);
        return { kind, user: users[thread.user], thread };
      }
      case 'thread-list':
      case 'unread-count':
        return { kind, user: this.pick(users), thread: null };
    }
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export function toHttp(op: Operation): HttpRequest {
  const headers: Record<string, string> = { authorization: op.user.authorization };
  const base = '/api/v1/messages';
  switch (op.kind) {
    case 'send':
      headers['content-type'] = 'application/json';
      return {
        method: 'POST',
        path: `${base}/threads/${op.thread!.threadId}/messages`,
        headers,
        body: JSON.stringify({ body: op.body, clientMessageId: op.clientMessageId }),
      };
    case 'thread-page':
      return { method: 'GET', path: `${base}/threads/${op.thread!.threadId}`, headers };
    case 'after-poll':
      return {
        method: 'GET',
        path: `${base}/threads/${op.thread!.threadId}/messages?after=${op.thread!.afterId}`,
        headers,
      };
    case 'thread-list':
      return { method: 'GET', path: `${base}/threads`, headers };
    case 'unread-count':
      return { method: 'GET', path: `${base}/unread-count`, headers };
  }
}

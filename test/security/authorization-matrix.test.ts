import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Client } from 'pg';
import { drainOutbox, eventually, ownerClient } from '../support/async';
import { changedTables, snapshotDatabase, type DatabaseSnapshot } from '../support/db-snapshot';
import { fetchRoutes, fillPath, type OpenApiRoute } from '../support/openapi-routes';
import { startTestApp, bearer, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';
import { untilEventStream } from '../support/sse';

/**
 * The authorization matrix (issue 8, item 2): every operation of the OpenAPI document the app
 * serves, called as anonymous, as a member of another org, as same-org members who may not see
 * the addressed object, with the wrong role, and as the legitimate caller. Refused calls must
 * leave every table of the database unchanged.
 */

/** Routes answered without a token. Anything else outside this list must demand one. */
const PUBLIC_ROUTES = ['/health/live', '/health/ready', '/docs', '/docs-json'];

/** The fixture objects a route can address, by path parameter or by an id in its body. */
type Kind =
  | 'org'
  | 'spare'
  | 'thread'
  | 'message'
  | 'member'
  | 'recipient'
  | 'notification'
  | 'endpoint'
  | 'delivery';
type Ids = Record<Kind, string>;

type Caller =
  | 'anonymous'
  | 'p1'
  | 'p2'
  | 'n1'
  | 'n2'
  | 'admin'
  | 'demoted'
  | 'other'
  | 'service'
  | 'forged'
  | 'expired'
  | 'algNone';

interface RouteSpec {
  audience: 'public' | 'member' | 'org_admin' | 'service';
  /** Path parameter → the kind of fixture it names. */
  params?: Record<string, Kind>;
  /** The objects the route addresses (path or body): each gets an unknown-id counterpart. */
  addresses?: Kind[];
  /** A minimal valid body. */
  body?: (ids: Ids, ctx: { receiverUrl: string }) => Record<string, unknown>;
  /** The caller for whom the route works, and the status it answers. */
  legit: { as: Caller; status: number };
  /** Same-org members who may not see the addressed object: the unknown-id 404 for them. */
  hiddenFrom?: Caller[];
}

const THREAD = { params: { id: 'thread' as Kind }, addresses: ['thread' as Kind] };
const NON_PARTICIPANTS: Caller[] = ['n1', 'n2', 'admin'];
const ENDPOINT = { params: { id: 'endpoint' as Kind }, addresses: ['endpoint' as Kind] };
const DELIVERY = { params: { id: 'delivery' as Kind }, addresses: ['delivery' as Kind] };

/**
 * Every route of the API, by `METHOD path` as in the OpenAPI document. A route the document has
 * and this table lacks fails the first test (and every category it would have been checked in).
 */
const ROUTES: Record<string, RouteSpec> = {
  'GET /health/live': { audience: 'public', legit: { as: 'anonymous', status: 200 } },
  'GET /health/ready': { audience: 'public', legit: { as: 'anonymous', status: 200 } },
  'GET /api/v1/me': { audience: 'member', legit: { as: 'p1', status: 200 } },
  'PATCH /api/v1/me/settings': {
    audience: 'member',
    body: () => ({ readReceipts: true }),
    legit: { as: 'p1', status: 200 },
  },
  'PUT /api/v1/admin/orgs/{orgId}/members/{userId}': {
    audience: 'service',
    params: { orgId: 'org', userId: 'spare' },
    addresses: ['org', 'spare'],
    body: () => ({ displayName: 'Spare member', role: 'resident' }),
    legit: { as: 'service', status: 200 },
  },
  'DELETE /api/v1/admin/orgs/{orgId}/members/{userId}': {
    audience: 'service',
    params: { orgId: 'org', userId: 'spare' },
    addresses: ['org', 'spare'],
    legit: { as: 'service', status: 204 },
  },
  'GET /api/v1/messages/recipients': { audience: 'member', legit: { as: 'p1', status: 200 } },
  'GET /api/v1/messages/threads/{id}/messages': {
    audience: 'member',
    ...THREAD,
    hiddenFrom: NON_PARTICIPANTS,
    legit: { as: 'p1', status: 200 },
  },
  'POST /api/v1/messages/threads/{id}/messages': {
    audience: 'member',
    ...THREAD,
    body: () => ({ body: 'a message from the matrix' }),
    hiddenFrom: NON_PARTICIPANTS,
    legit: { as: 'p1', status: 201 },
  },
  'DELETE /api/v1/messages/threads/{id}/messages/{messageId}': {
    audience: 'member',
    params: { id: 'thread', messageId: 'message' },
    addresses: ['thread', 'message'],
    hiddenFrom: NON_PARTICIPANTS,
    legit: { as: 'p1', status: 204 },
  },
  'POST /api/v1/messages/threads/{id}/read': {
    audience: 'member',
    ...THREAD,
    body: () => ({}),
    hiddenFrom: NON_PARTICIPANTS,
    legit: { as: 'p2', status: 200 },
  },
  'GET /api/v1/messages/unread-count': { audience: 'member', legit: { as: 'p1', status: 200 } },
  'GET /api/v1/messages/threads': { audience: 'member', legit: { as: 'p1', status: 200 } },
  'POST /api/v1/messages/threads': {
    audience: 'member',
    addresses: ['recipient'],
    body: (ids) => ({ recipientId: ids.recipient }),
    legit: { as: 'p1', status: 200 },
  },
  'GET /api/v1/messages/threads/{id}': {
    audience: 'member',
    ...THREAD,
    hiddenFrom: NON_PARTICIPANTS,
    legit: { as: 'p1', status: 200 },
  },
  'GET /api/v1/messages/users/blocked': { audience: 'member', legit: { as: 'p1', status: 200 } },
  'POST /api/v1/messages/users/{id}/block': {
    audience: 'member',
    params: { id: 'member' },
    addresses: ['member'],
    legit: { as: 'p1', status: 201 },
  },
  'DELETE /api/v1/messages/users/{id}/block': {
    audience: 'member',
    params: { id: 'member' },
    addresses: ['member'],
    legit: { as: 'p1', status: 204 },
  },
  'GET /api/v1/events': { audience: 'member', legit: { as: 'p1', status: 200 } },
  'POST /api/v1/events/tickets': { audience: 'member', legit: { as: 'p1', status: 201 } },
  'GET /api/v1/notifications': { audience: 'member', legit: { as: 'p2', status: 200 } },
  'POST /api/v1/notifications/read-all': { audience: 'member', legit: { as: 'p2', status: 200 } },
  'POST /api/v1/notifications/{id}/read': {
    audience: 'member',
    params: { id: 'notification' },
    addresses: ['notification'],
    hiddenFrom: ['p1', 'n1', 'admin'],
    legit: { as: 'p2', status: 200 },
  },
  'POST /api/v1/webhooks/endpoints': {
    audience: 'org_admin',
    body: (_ids, ctx) => ({ url: ctx.receiverUrl, events: ['message.created'] }),
    legit: { as: 'admin', status: 201 },
  },
  'GET /api/v1/webhooks/endpoints': { audience: 'org_admin', legit: { as: 'admin', status: 200 } },
  'GET /api/v1/webhooks/endpoints/{id}': {
    audience: 'org_admin',
    ...ENDPOINT,
    legit: { as: 'admin', status: 200 },
  },
  'PATCH /api/v1/webhooks/endpoints/{id}': {
    audience: 'org_admin',
    ...ENDPOINT,
    body: () => ({ description: 'changed by the matrix' }),
    legit: { as: 'admin', status: 200 },
  },
  'DELETE /api/v1/webhooks/endpoints/{id}': {
    audience: 'org_admin',
    ...ENDPOINT,
    legit: { as: 'admin', status: 204 },
  },
  'POST /api/v1/webhooks/endpoints/{id}/rotate-secret': {
    audience: 'org_admin',
    ...ENDPOINT,
    legit: { as: 'admin', status: 200 },
  },
  'GET /api/v1/webhooks/endpoints/{id}/deliveries': {
    audience: 'org_admin',
    ...ENDPOINT,
    legit: { as: 'admin', status: 200 },
  },
  'GET /api/v1/webhooks/deliveries/{id}/attempts': {
    audience: 'org_admin',
    ...DELIVERY,
    legit: { as: 'admin', status: 200 },
  },
  'POST /api/v1/webhooks/deliveries/{id}/retry': {
    audience: 'org_admin',
    ...DELIVERY,
    legit: { as: 'admin', status: 202 },
  },
};

interface Captured {
  request: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Headers that legitimately differ between any two responses. */
const VOLATILE_HEADERS = new Set(['date', 'x-request-id']);

describe('authorization matrix: every OpenAPI route × every kind of caller', () => {
  let t: TestApp;
  let db: Client;
  let receiver: WebhookReceiver;
  let routes: (OpenApiRoute & { spec: RouteSpec })[];
  let ids: Ids;
  const members = {} as Record<'p1' | 'p2' | 'n1' | 'n2' | 'admin' | 'demoted' | 'other', Member>;
  let serviceToken: string;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    t = await startTestApp({
      ...UNTHROTTLED,
      WORKER_ENABLED: 'true',
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
      OUTBOX_POLL_MS: '20',
    });
    db = await ownerClient(t.database);
    serviceToken = t.serviceToken();

    // The fixtures, through the API: org A with an admin, two participants of a thread, two
    // non-participants (a resident and a manager), a spare member for the provisioning routes;
    // org B with its own admin.
    const org = t.createOrg();
    members.admin = await t.createMember(org, { role: 'org_admin', displayName: 'Org Admin' });
    members.p1 = await t.createMember(org, { displayName: 'Participant One' });
    members.p2 = await t.createMember(org, { displayName: 'Participant Two' });
    members.n1 = await t.createMember(org, { displayName: 'Outsider Resident' });
    members.n2 = await t.createMember(org, { role: 'manager', displayName: 'Outsider Manager' });
    const spare = await t.createMember(org, { displayName: 'Spare member' });
    // An admin demoted to resident through the provisioning API, who keeps their org_admin token.
    members.demoted = await t.createMember(org, { role: 'org_admin', displayName: 'Ex Admin' });
    expect((await t.http().get('/api/v1/me').set(bearer(members.demoted))).body.role).toBe(
      'org_admin',
    );
    const demotion = await t
      .http()
      .put(`/api/v1/admin/orgs/${org}/members/${members.demoted.userId}`)
      .set('authorization', `Bearer ${t.serviceToken()}`)
      .send({ displayName: 'Ex Admin', role: 'resident' });
    expect(demotion.status).toBe(200);
    members.other = await t.createMember(t.createOrg(), {
      role: 'org_admin',
      displayName: 'Other Org Admin',
    });

    const endpoint = await t
      .http()
      .post('/api/v1/webhooks/endpoints')
      .set(bearer(members.admin))
      .send({
        url: receiver.url(),
        events: ['thread.created', 'message.created', 'message.deleted', 'message.read'],
      });
    expect(endpoint.status).toBe(201);

    const started = await t
      .http()
      .post('/api/v1/messages/threads')
      .set(bearer(members.p1))
      .send({ recipientId: members.p2.userId, body: 'hello' });
    expect(started.status).toBe(201);
    const thread = started.body.thread.id as string;
    const send = async (from: Member, body: string) => {
      const res = await t
        .http()
        .post(`/api/v1/messages/threads/${thread}/messages`)
        .set(bearer(from))
        .send({ body });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    await send(members.p2, 'hi');
    const message = await send(members.p1, 'a message p1 will delete');
    const read = await t
      .http()
      .post(`/api/v1/messages/threads/${thread}/read`)
      .set(bearer(members.p2))
      .send({});
    expect(read.status).toBe(200);

    // Wait for the asynchronous work to finish: notifications made, webhooks delivered. The
    // database is quiet from then on (nothing due, nothing unpublished), so any change seen
    // around the refused calls is theirs.
    await drainOutbox(db);
    const deliveries = await eventually(
      async () => {
        const res = await t
          .http()
          .get(`/api/v1/webhooks/endpoints/${endpoint.body.id}/deliveries`)
          .set(bearer(members.admin));
        const data = res.body.data as { id: string; status: string }[];
        return data.length >= 5 && data.every((d) => d.status === 'succeeded') ? data : undefined;
      },
      20_000,
      'the webhook deliveries to succeed',
    );
    await drainOutbox(db);
    const inbox = await t.http().get('/api/v1/notifications').set(bearer(members.p2));
    expect(inbox.body.data.length).toBeGreaterThan(0);

    ids = {
      org,
      spare: spare.userId,
      thread,
      message,
      member: members.n1.userId,
      recipient: members.p2.userId,
      notification: inbox.body.data[0].id,
      endpoint: endpoint.body.id,
      delivery: deliveries[0].id,
    };

    routes = (await fetchRoutes(() => t.http())).map((r) => ({ ...r, spec: ROUTES[r.key] }));
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await t?.close();
    await receiver?.stop();
  });

  const tokenOf = (caller: Caller): string | undefined => {
    const secret = t.config.auth.jwtSecret ?? '';
    const claims = {
      sub: members.p1.userId,
      org_id: members.p1.orgId,
      role: 'resident',
      name: members.p1.displayName,
    };
    switch (caller) {
      case 'anonymous':
        return undefined;
      case 'service':
        return serviceToken;
      case 'forged':
        return jwt.sign(claims, `${secret}-but-not-quite`, { algorithm: 'HS256', expiresIn: 600 });
      case 'expired':
        return jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }, secret, {
          algorithm: 'HS256',
        });
      case 'algNone':
        return jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }, '', {
          algorithm: 'none',
        });
      case 'p1':
      case 'p2':
      case 'n1':
      case 'n2':
      case 'admin':
      case 'demoted':
      case 'other':
        return members[caller].token;
    }
  };

  /** Calls a route as `caller`, with the fixture ids `use` (defaults: the real fixtures). */
  const call = async (
    route: OpenApiRoute & { spec: RouteSpec },
    caller: Caller,
    use: Ids = ids,
  ): Promise<Captured> => {
    const values = Object.fromEntries(
      Object.entries(route.spec.params ?? {}).map(([name, kind]) => [name, use[kind]]),
    );
    const path = fillPath(route.path, values);
    let req = t.http()[route.method](path);
    const token = tokenOf(caller);
    if (token) req = req.set('authorization', `Bearer ${token}`);
    // An event stream that opened stays open: its status and headers are the answer.
    if (route.streaming) req = req.buffer(true).parse(untilEventStream as never);
    const body = route.spec.body?.(use, { receiverUrl: receiver.url() });
    const res = body === undefined ? await req : await req.send(body);
    return {
      request: `${route.method.toUpperCase()} ${path}${body === undefined ? '' : ` ${JSON.stringify(body)}`} as ${caller}`,
      path,
      status: res.status,
      headers: res.headers,
      text: route.streaming ? String(res.body ?? '') : res.text,
    };
  };

  const describeResponse = (c: Captured) => `${c.status} ${c.text.slice(0, 300)}`;

  /** A problem-details refusal with the given status, whose `instance` is the request path. */
  const problemFailure = (c: Captured, status: number, slug?: string): string | undefined => {
    const complaint = `${c.request}: expected ${status}${slug ? ` ${slug}` : ''} problem details, got ${describeResponse(c)}`;
    if (c.status !== status) return complaint;
    if (!/^application\/problem\+json/.test(c.headers['content-type'] ?? '')) return complaint;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(c.text) as Record<string, unknown>;
    } catch {
      return complaint;
    }
    const ok =
      typeof body.type === 'string' &&
      (!slug || body.type.endsWith(`/${slug}`)) &&
      typeof body.title === 'string' &&
      body.status === status &&
      typeof body.detail === 'string' &&
      body.instance === c.path;
    return ok ? undefined : complaint;
  };

  /** The response with what may differ between two requests (instance, date, request id) masked. */
  const normalized = (c: Captured) => ({
    status: c.status,
    headers: Object.fromEntries(
      Object.entries(c.headers).filter(([name]) => !VOLATILE_HEADERS.has(name.toLowerCase())),
    ),
    body: c.text.split(`"instance":${JSON.stringify(c.path)}`).join('"instance":"<request path>"'),
  });

  /** What differs between two normalized responses (status, body, header by header). */
  const differences = (
    a: ReturnType<typeof normalized>,
    b: ReturnType<typeof normalized>,
  ): string | undefined => {
    const found: string[] = [];
    if (a.status !== b.status) found.push(`status ${a.status} ≠ ${b.status}`);
    if (a.body !== b.body) found.push(`body ${a.body.slice(0, 300)} ≠ ${b.body.slice(0, 300)}`);
    for (const name of new Set([...Object.keys(a.headers), ...Object.keys(b.headers)])) {
      if (a.headers[name] !== b.headers[name]) {
        found.push(`header ${name}: ${a.headers[name]} ≠ ${b.headers[name]}`);
      }
    }
    return found.length ? found.join('; ') : undefined;
  };

  /**
   * Calls the route with the real fixtures and with each addressed object replaced by a random
   * (unknown) UUID in its position, and with all of them replaced: every answer must be the same
   * `status` and byte-identical apart from `instance` and the volatile headers.
   */
  const indistinguishable = async (
    route: OpenApiRoute & { spec: RouteSpec },
    caller: Caller,
    status: number,
    slug?: string,
  ): Promise<string[]> => {
    const failures: string[] = [];
    const kinds = route.spec.addresses ?? [];
    const variants: Ids[] = kinds.map((k) => ({ ...ids, [k]: randomUUID() }));
    if (kinds.length > 1) {
      variants.push({ ...ids, ...Object.fromEntries(kinds.map((k) => [k, randomUUID()])) });
    }
    const real = await call(route, caller);
    const problem = problemFailure(real, status, slug);
    if (problem) failures.push(problem);
    for (const variant of variants) {
      const unknown = await call(route, caller, variant);
      const unknownProblem = problemFailure(unknown, status, slug);
      if (unknownProblem) failures.push(unknownProblem);
      const difference = differences(normalized(real), normalized(unknown));
      if (difference) {
        failures.push(`${real.request} is distinguishable from ${unknown.request}: ${difference}`);
      }
    }
    return failures;
  };

  /** Runs refused calls between two snapshots of every table: they must not change any row. */
  const refusedCalls = async (run: () => Promise<string[]>) => {
    const before: DatabaseSnapshot = await snapshotDatabase(db);
    const failures = await run();
    const after = await snapshotDatabase(db);
    expect({ failures, changedTables: changedTables(before, after) }).toEqual({
      failures: [],
      changedTables: [],
    });
  };

  const apiRoutes = () => routes.filter((r) => r.path.startsWith('/api/v1/'));
  const missingSpec = () =>
    routes.filter((r) => !r.spec).map((r) => `${r.key}: not in the matrix's route table`);

  it('covers exactly the routes of the OpenAPI document, and only the allow-listed ones are public', () => {
    const documented = routes.map((r) => r.key).sort();
    expect(documented).toEqual(Object.keys(ROUTES).sort());
    for (const route of routes) {
      if (!route.path.startsWith('/api/v1/')) {
        expect({ route: route.key, public: PUBLIC_ROUTES.includes(route.path) }).toEqual({
          route: route.key,
          public: true,
        });
      }
      // The document itself declares the bearer scheme on every route that needs a token.
      expect({ route: route.key, secured: route.secured }).toEqual({
        route: route.key,
        secured: !PUBLIC_ROUTES.includes(route.path),
      });
      expect({ route: route.key, public: route.spec?.audience === 'public' }).toEqual({
        route: route.key,
        public: PUBLIC_ROUTES.includes(route.path),
      });
    }
  });

  it('(a) anonymous callers and bad tokens get 401 problem details on every /api/v1 route, and change nothing', async () => {
    await refusedCalls(async () => {
      const failures = missingSpec();
      for (const route of routes) {
        if (!route.spec) continue;
        if (!route.path.startsWith('/api/v1/')) {
          if (!PUBLIC_ROUTES.includes(route.path)) {
            failures.push(`${route.key}: outside /api/v1 and not on the public allow-list`);
          }
          continue;
        }
        for (const caller of ['anonymous', 'forged', 'expired', 'algNone'] as Caller[]) {
          const failure = problemFailure(await call(route, caller), 401, 'unauthorized');
          if (failure) failures.push(failure);
        }
      }
      // Not in the OpenAPI document but served: the docs are public, the dashboard is not.
      for (const path of ['/docs', '/docs-json']) {
        const res = await t.http().get(path);
        if (res.status !== 200) failures.push(`GET ${path} anonymously: ${res.status}`);
      }
      const dashboard = await t.http().get('/admin/queues');
      if (dashboard.status !== 401) {
        failures.push(`GET /admin/queues anonymously: expected 401, got ${dashboard.status}`);
      }
      return failures;
    });
  });

  it('(b) a member of another org gets the unknown-id 404 for every object of this org, byte for byte', async () => {
    await refusedCalls(async () => {
      const failures = missingSpec();
      for (const route of apiRoutes()) {
        if (!route.spec?.addresses?.length || route.spec.audience === 'service') continue;
        failures.push(...(await indistinguishable(route, 'other', 404, 'not-found')));
      }
      return failures;
    });
  });

  it('(c) same-org members who are not participants (or owners) get the unknown-id 404, byte for byte', async () => {
    await refusedCalls(async () => {
      const failures = missingSpec();
      for (const route of apiRoutes()) {
        for (const caller of route.spec?.hiddenFrom ?? []) {
          failures.push(...(await indistinguishable(route, caller, 404, 'not-found')));
        }
      }
      // A participant who did not send the message: 403 by design (they can see it).
      const del = routes.find(
        (r) => r.key === 'DELETE /api/v1/messages/threads/{id}/messages/{messageId}',
      );
      if (del) {
        const failure = problemFailure(await call(del, 'p2'), 403, 'not-message-sender');
        if (failure) failures.push(failure);
      }
      return failures;
    });
  });

  it('(d) the wrong role gets 403 whether or not the object exists: residents, managers and a demoted admin (with their org_admin token) on webhooks, members on provisioning, service tokens on member routes', async () => {
    await refusedCalls(async () => {
      const failures = missingSpec();
      for (const route of apiRoutes()) {
        if (!route.spec) continue;
        const wrongRoles: Caller[] =
          route.spec.audience === 'org_admin'
            ? ['p1', 'n2', 'demoted', 'service']
            : route.spec.audience === 'service'
              ? ['p1', 'n2', 'admin', 'other']
              : ['service'];
        for (const caller of wrongRoles) {
          failures.push(...(await indistinguishable(route, caller, 403, 'forbidden')));
        }
      }
      return failures;
    });
  });

  it('(e) the legitimate caller gets the 2xx of every route (so the refusals above are real)', async () => {
    const failures = missingSpec();
    const ordered = [
      ...routes.filter((r) => r.method !== 'delete'),
      ...routes.filter((r) => r.method === 'delete'),
    ];
    for (const route of ordered) {
      if (!route.spec) continue;
      const { as, status } = route.spec.legit;
      const res = await call(route, as);
      if (res.status !== status) {
        failures.push(`${res.request}: expected ${status}, got ${describeResponse(res)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

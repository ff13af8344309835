import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Client } from 'pg';
import { ownerClient } from '../support/async';
import { untilEventStream } from '../support/sse';
import { changedTables, snapshotDatabase, type DatabaseSnapshot } from '../support/db-snapshot';
import {
  fetchRoutes,
  fillPath,
  type JsonSchema,
  type OpenApiRoute,
} from '../support/openapi-routes';
import { startTestApp, bearer, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';

/**
 * Bad input (issue 8, item 3): random and malformed bodies, query strings, path ids, headers and
 * oversized payloads thrown at every route of the OpenAPI document, with a token of the route's
 * audience so the input gets past authentication. Properties: never a 5xx; every 4xx is problem
 * details whose `status` is the HTTP status; a request answered 4xx writes nothing.
 *
 * The random part runs a fixed number of requests per route from a fixed seed (FUZZ_SEED, from
 * which each route's seed derives; a failure prints the route's seed and the counterexample's
 * path), so a run is reproducible; FUZZ_SEED=<n> FUZZ_RUNS=<n> explore further. FUZZ_STATS=<file>
 * writes every request's route, status and answer there, to see how deep the inputs get.
 *
 * Whole classes of input that a framework layer refuses before the application (bodies nested
 * thousands deep, path parameters the router cannot decode or that exceed its length limit,
 * request heads over the server's limit) each have a deterministic test over every route below;
 * the random inputs stay within those bounds, so that one such class cannot mask, route by route,
 * whatever else the fuzzer would find.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 20);
/** Longest run of one character in junk that goes into the URL (percent-encoded: up to 12×). */
const MAX_URL_JUNK = 200;
/**
 * The random requests keep their request line and headers under 12 KiB, below the server's 16 KiB
 * header limit: what happens past that limit is one deterministic test below, so that it does not
 * mask whatever else the fuzzer would find on a route.
 */
const MAX_HEAD_BYTES = 12 * 1024;
/**
 * Random bodies nest up to this depth; the depths past it are one deterministic test below (the
 * same reason).
 */
const MAX_RANDOM_DEPTH = 200;
const BODY_LIMIT = 256 * 1024;

/**
 * Each route gets its own seed, derived from FUZZ_SEED and the route: one seed for all would give
 * every route the same sequence of choices.
 */
const routeSeed = (route: OpenApiRoute) =>
  [...`${SEED}:${route.key}`].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 7);

// ---------------------------------------------------------------------------------------------
// Generators

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD, as on the wire). */
const pct = (s: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

const NASTY_CHARS = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\b',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u200b',
  '\u202e',
  '\u2028',
  '\ufeff',
  '\ufffd',
  '\ud800',
  '\udfff',
  '😀',
  '👩‍👩‍👧',
  'é',
  'ß',
  'İ',
  '\n',
  '\r',
  '\t',
  ' ',
  '\\',
  '"',
  "'",
  '%',
  '&',
  '=',
  '?',
  '#',
  '/',
  '<',
  '>',
  '{',
  '}',
  '[',
  ']',
  '$',
  '*',
  '_',
  ',',
  ';',
];

const NASTY_STRINGS = [
  '',
  ' ',
  '   ',
  'null',
  'undefined',
  'true',
  'false',
  'NaN',
  'Infinity',
  '-Infinity',
  '-1',
  '0',
  '-0',
  '1.5',
  '1e309',
  '1e-400',
  '0x10',
  '101',
  '9007199254740993',
  '99999999999999999999999',
  '[]',
  '{}',
  "' or 1=1 --",
  "'; drop table messages; --",
  '%',
  '%%',
  '%00',
  '%zz',
  '\\',
  '\\u0000',
  '../..',
  '__proto__',
  'constructor',
  'prototype',
  '$where',
  '{"$gt":""}',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF',
  '{01a2182d-cab9-71cd-8025-64bae1ddd0f1}',
  '01a2182dcab971cd802564bae1ddd0f1',
  'urn:uuid:01a2182d-cab9-71cd-8025-64bae1ddd0f1',
  '01a2182d-cab9-71cd-8025-64bae1ddd0f1 ',
  '01a2182d-cab9-71cd-8025-64bae1ddd0f1\u0000',
  '<script>alert(1)</script>',
  '${7*7}',
  '{{7*7}}',
  'http://127.0.0.1:1/hook',
  'https://169.254.169.254/latest/meta-data',
  'http://[::1]:80/',
  'https://user:pass@example.com/',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'https://example.invalid/hook',
];

/** Timestamp-like strings: what JavaScript's Date.parse accepts is not always what PostgreSQL does. */
const TIMESTAMPISH = [
  '1',
  '0',
  '2020',
  'Jan 1 2020',
  'Thu, 01 Jan 1970 00:00:00 GMT',
  '2020-02-30T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '0000-01-01T00:00:00Z',
  '2020-01-01T00:00:00.000+99:00',
  '2020-01-01 25:00',
  'infinity',
  'epoch',
];

const junkText = (maxRepeat: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...NASTY_CHARS), maxLength: 20 }) },
    { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom('x', 'é', '😀', '\u0000', ' '),
          fc.integer({ min: 60, max: maxRepeat }),
        )
        .map(([c, n]) => c.repeat(n)),
    },
    { weight: 1, arbitrary: fc.integer().map(String) },
    { weight: 1, arbitrary: fc.double().map(String) },
    { weight: 1, arbitrary: fc.uuid() },
  );

/** Strings that are valid HTTP header values (Node refuses to send anything else). */
const headerText = (maxLength: number) =>
  fc.string({
    unit: fc
      .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });

const cursorPart = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.uuid(),
  fc.constant(null),
  fc.constantFrom(...TIMESTAMPISH),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.jsonValue({ maxDepth: 2 }),
);
/** Opaque cursors are base64url JSON arrays: forge well-formed ones with odd contents too. */
const cursorArb = fc.oneof(
  junkText(MAX_URL_JUNK),
  fc
    .array(cursorPart, { maxLength: 4 })
    .map((a) => Buffer.from(JSON.stringify(a)).toString('base64url')),
  fc.string().map((s) => Buffer.from(s).toString('base64url')),
  fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v)).toString('base64')),
);

const junkJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  junkText(5000),
  fc.constant(null),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);

const junkKey = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('isAdmin', 'orgId', 'org_id', 'role', 'senderId', 'id', 'seq', 'deleted', ''),
);

const RAW_QUERY_BITS = [
  'limit=1&limit=2',
  'limit[]=1',
  'limit[a]=1',
  'cursor[]=x',
  'q[]=a&q[]=b',
  '__proto__[rmPolluted]=1',
  'constructor[prototype][rmPolluted]=1',
  'a[__proto__][rmPolluted]=1',
  '__proto__=1',
  '%',
  '%zz=1',
  'limit=%zz',
  '=',
  '&&',
  'q',
  'cursor=',
  'limit=',
  'limit=%00',
  'unreadOnly',
  'before=&after=',
  ';',
];

/**
 * Raw (already encoded) path segments. Only well-formed percent-encodings: malformed ones are a
 * deterministic test below (MALFORMED_PATH_PARAMS), so that they do not mask what else the fuzzer
 * would find on a route.
 */
const RAW_PATH_BITS = [
  '%00',
  '%2F',
  '%2e%2e',
  '%E2%80%AE',
  '%F0%9F%98%80',
  '%EF%BF%BF',
  'a%2Fb',
  '~',
  ';x=1',
  '%3B',
  '%23',
  '%3F',
  '%20',
  '+',
  '%2B',
  'null',
];

/**
 * Path parameters the router itself refuses: percent-encodings that do not decode (truncated,
 * not hex, not UTF-8, overlong) and parameters longer than its limit (100 characters). Random
 * path parameters stay within the limit (MAX_PARAM_LENGTH); these are a deterministic test below.
 */
const MALFORMED_PATH_PARAMS = [
  '%',
  '%zz',
  '%ff',
  '%C0%AF',
  '%E2%82',
  'abc%',
  'x'.repeat(101),
  `${'0'.repeat(36)}${'1'.repeat(2000)}`,
];
const MAX_PARAM_LENGTH = 100;

const ODD_CONTENT_TYPES = [
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json;;;',
  'APPLICATION/JSON',
  'application/merge-patch+json',
  'application/problem+json',
  'application/jsonx',
  'application/vnd.api+json',
  '*/*',
  'json',
];

const RAW_BODIES = [
  '',
  ' ',
  '{',
  '}',
  '{"a":}',
  "{'a':1}",
  '{"a":1,}',
  '{"a":1}{"b":2}',
  '[1,2',
  'null',
  'true',
  '0',
  '-1',
  '"a string"',
  '[]',
  '[{}]',
  '{}',
  '\u0000',
  '\ufeff{}',
  '{"__proto__":{"rmPolluted":true}}',
  '{"constructor":{"prototype":{"rmPolluted":true}}}',
  '{"prototype":{"rmPolluted":true}}',
  '{"a":1e999}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  'NaN',
  'undefined',
];

/** Values for one property of a request body schema: mostly plausible, sometimes junk. */
function valueFor(schema: JsonSchema, fixtureIds: string[]): fc.Arbitrary<unknown> {
  const wrong = {
    weight: 3,
    arbitrary: fc.oneof(
      { weight: 2, arbitrary: junkJson },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
  };
  if (schema.enum?.length) {
    return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...schema.enum) }, wrong);
  }
  switch (schema.type) {
    case 'string': {
      if (schema.format === 'uuid') {
        return fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...fixtureIds) },
          { weight: 2, arbitrary: fc.uuid() },
          wrong,
        );
      }
      const max = schema.maxLength ?? 100;
      const boundaries = [
        'a',
        'a'.repeat(max),
        'a'.repeat(max + 1),
        '😀'.repeat(max),
        '😀'.repeat(max + 1),
        ` ${'b'.repeat(max)} `,
        '   ',
        'x\u0000y',
        'line\nbreak\ttab\r',
        'bell\u0007',
        '\u202eevil',
        '\ud800',
      ];
      return fc.oneof(
        { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
        { weight: 2, arbitrary: fc.constantFrom(...boundaries) },
        { weight: 2, arbitrary: junkText(max + 10) },
        wrong,
      );
    }
    case 'boolean':
      return fc.oneof({ weight: 3, arbitrary: fc.boolean() }, wrong);
    case 'number':
    case 'integer':
      return fc.oneof({ weight: 3, arbitrary: fc.integer() }, wrong);
    case 'array': {
      const items = schema.items?.enum?.length
        ? fc.subarray(schema.items.enum)
        : fc.array(valueFor(schema.items ?? {}, fixtureIds), { maxLength: 3 });
      return fc.oneof(
        { weight: 3, arbitrary: items },
        { weight: 1, arbitrary: fc.array(junkJson, { maxLength: 3 }) },
        wrong,
      );
    }
    case undefined:
    default:
      return junkJson;
  }
}

/** JSON text shaped after the route's body schema, with omissions, junk and unknown fields. */
function schemaBody(schema: JsonSchema, fixtureIds: string[]): fc.Arbitrary<string> {
  const props = Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([k, s]) => [k, valueFor(s, fixtureIds)]),
  );
  return fc
    .tuple(
      fc.record(props, { requiredKeys: [] }),
      fc.option(fc.dictionary(junkKey, junkJson, { maxKeys: 2 }), { freq: 4 }),
      fc.option(fc.constantFrom('__proto__', 'constructor', 'prototype'), { freq: 5 }),
    )
    .map(([base, extra, protoKey]) => {
      let text = JSON.stringify({ ...base, ...(extra ?? {}) });
      if (protoKey) {
        const injected = `"${protoKey}":{"rmPolluted":true,"prototype":{"rmPolluted":true}}`;
        text = text === '{}' ? `{${injected}}` : `{${injected},${text.slice(1)}`;
      }
      return text;
    });
}

/** A plausible value for a property: what a well-behaved client would send. */
function validValueFor(
  name: string,
  schema: JsonSchema,
  fixtureIds: string[],
): fc.Arbitrary<unknown> {
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'string':
      if (schema.format === 'uuid') return fc.constantFrom(...fixtureIds);
      if (name === 'url') return fc.constant('http://127.0.0.1:9/hook');
      return fc
        .string({ minLength: 1, maxLength: Math.min(schema.maxLength ?? 50, 50) })
        .filter((v) => v.trim().length > 0);
    case 'boolean':
      return fc.boolean();
    case 'number':
    case 'integer':
      return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 100 });
    case 'array':
      return schema.items?.enum?.length
        ? fc.subarray(schema.items.enum, { minLength: 1 })
        : fc.constant([]);
    case undefined:
    default:
      return fc.constant(null);
  }
}

/** JSON text valid for the route's body schema: required fields present, optional ones maybe. */
function validBody(schema: JsonSchema, fixtureIds: string[]): fc.Arbitrary<string> {
  const props = Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([k, s]) => [k, validValueFor(k, s, fixtureIds)]),
  );
  return fc
    .record(props, { requiredKeys: schema.required ?? [] })
    .map((value) => JSON.stringify(value));
}

type Nesting = 'object' | 'array' | 'mixed';
const nested = (depth: number, kind: Nesting) =>
  kind === 'object'
    ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    : kind === 'array'
      ? `${'['.repeat(depth)}${']'.repeat(depth)}`
      : `{"body":${'[{"x":'.repeat(depth / 2)}null${'}]'.repeat(depth / 2)}}`;
const deepNesting = fc
  .tuple(
    fc.integer({ min: 2, max: MAX_RANDOM_DEPTH / 2 }).map((n) => n * 2),
    fc.constantFrom<Nesting>('object', 'array', 'mixed'),
  )
  .map(([depth, kind]) => nested(depth, kind));

interface FuzzInput {
  params: Record<string, string>;
  query: string;
  headers: Record<string, string>;
  body?: { contentType: string; payload: string };
}

// ---------------------------------------------------------------------------------------------

describe('bad input on every OpenAPI route (property-based)', () => {
  let t: TestApp;
  let db: Client;
  let routes: OpenApiRoute[];
  let admin: Member;
  let p1: Member;
  let p2: Member;
  let n1: Member;
  let spareUserId: string;
  let org: string;
  let thread: string;
  let message: string;
  let endpoint: string;

  beforeAll(async () => {
    // No worker: nothing asynchronous writes while the fuzzer compares snapshots, so a change
    // between two snapshots is the request's own.
    t = await startTestApp({
      ...UNTHROTTLED,
      WORKER_ENABLED: 'false',
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
    });
    db = await ownerClient(t.database);
    org = t.createOrg();
    admin = await t.createMember(org, { role: 'org_admin' });
    p1 = await t.createMember(org);
    p2 = await t.createMember(org);
    n1 = await t.createMember(org);
    spareUserId = (await t.createMember(org)).userId;
    const started = await t
      .http()
      .post('/api/v1/messages/threads')
      .set(bearer(p1))
      .send({ recipientId: p2.userId, body: 'hello' });
    expect(started.status).toBe(201);
    thread = started.body.thread.id;
    message = started.body.message.id;
    const created = await t
      .http()
      .post('/api/v1/webhooks/endpoints')
      .set(bearer(admin))
      .send({ url: 'http://127.0.0.1:9/hook', events: ['message.created'] });
    expect(created.status).toBe(201);
    endpoint = created.body.id;
    routes = await fetchRoutes(() => t.http());
    // Destructive routes last, so the fixtures they remove serve the other routes first.
    routes = [
      ...routes.filter((r) => r.method !== 'delete'),
      ...routes.filter((r) => r.method === 'delete'),
    ];
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  /** The token of the route's audience: past authentication, into validation and the handler. */
  const tokenFor = (route: OpenApiRoute): string | undefined => {
    if (!route.path.startsWith('/api/v1/')) return undefined;
    if (route.path.startsWith('/api/v1/admin/')) return t.serviceToken();
    if (route.path.startsWith('/api/v1/webhooks/')) return admin.token;
    return p1.token;
  };

  /** A real object for a path parameter, so that the fuzzer also reaches the handlers. */
  const fixtureFor = (route: OpenApiRoute, name: string): string => {
    if (name === 'orgId') return org;
    if (name === 'userId') return spareUserId;
    if (name === 'messageId') return message;
    if (route.path.startsWith('/api/v1/messages/threads/')) return thread;
    if (route.path.startsWith('/api/v1/messages/users/')) return n1.userId;
    if (route.path.startsWith('/api/v1/webhooks/endpoints/')) return endpoint;
    return randomUUID();
  };

  /**
   * One request: each part (path ids, query, headers, body) is well-formed about half of the
   * time and malformed otherwise, so that the malformations reach every layer (routing,
   * authentication, validation, the handlers and the database) rather than the first one only.
   */
  const inputFor = (route: OpenApiRoute): fc.Arbitrary<FuzzInput> => {
    const fixtureIds = [p2.userId, n1.userId, thread, message, admin.userId];
    const params = Object.fromEntries(
      route.pathParams.map((name) => [
        name,
        fc.oneof(
          { weight: 6, arbitrary: fc.constant(pct(fixtureFor(route, name))) },
          { weight: 1, arbitrary: fc.uuid().map(pct) },
          {
            weight: 2,
            arbitrary: junkText(MAX_URL_JUNK)
              .map(pct)
              .filter((v) => v.length <= MAX_PARAM_LENGTH),
          },
          { weight: 1, arbitrary: fc.constantFrom(...RAW_PATH_BITS) },
        ),
      ]),
    );

    const declared = new Set(route.parameters.filter((p) => p.in === 'query').map((p) => p.name));
    const validQueryValue = (name: string): fc.Arbitrary<string> => {
      switch (name) {
        case 'limit':
          return fc.integer({ min: 1, max: 100 }).map(String);
        case 'status':
          return fc.constantFrom('pending', 'failed', 'succeeded', 'exhausted');
        case 'unreadOnly':
          return fc.constantFrom('true', 'false');
        case 'q':
          return fc.string({ maxLength: 20 });
        default:
          return fc.constant(message); // before / after
      }
    };
    const validQuery = fc
      .tuple(
        fc.record(
          Object.fromEntries(
            [...declared]
              .filter((n) => n !== 'cursor' && n !== 'before' && n !== 'after')
              .map((n) => [n, validQueryValue(n)]),
          ) as Record<string, fc.Arbitrary<string>>,
          { requiredKeys: [] },
        ),
        fc.constantFrom(...['', ...['before', 'after'].filter((n) => declared.has(n))]),
      )
      .map(([known, cursorName]) =>
        Object.entries({ ...known, ...(cursorName ? { [cursorName]: message } : {}) }).map(
          ([k, v]) => `${k}=${pct(String(v))}`,
        ),
      );
    const junkQueryValue = (name: string): fc.Arbitrary<string> => {
      switch (name) {
        case 'limit':
          return fc.oneof(fc.integer({ min: -5, max: 200 }).map(String), junkText(MAX_URL_JUNK));
        case 'cursor':
          return cursorArb;
        case 'before':
        case 'after':
          return fc.oneof(fc.constant(message), fc.uuid(), junkText(MAX_URL_JUNK));
        case 'unreadOnly':
          return fc.oneof(fc.constantFrom('1', '0', 'yes', '', 'TRUE'), junkText(MAX_URL_JUNK));
        default:
          return junkText(MAX_URL_JUNK);
      }
    };
    const junkQuery = fc
      .tuple(
        fc.record(
          Object.fromEntries(
            [...declared, 'limit', 'cursor', 'before', 'after', 'q', 'status', 'unreadOnly'].map(
              (n) => [n, junkQueryValue(n)],
            ),
          ) as Record<string, fc.Arbitrary<string>>,
          { requiredKeys: [] },
        ),
        fc.array(fc.tuple(junkKey, junkText(MAX_URL_JUNK)), { maxLength: 2 }),
        fc.subarray(RAW_QUERY_BITS, { maxLength: 2 }),
      )
      .map(([known, extra, raw]) => [
        ...Object.entries(known).map(([k, v]) => `${k}=${pct(String(v))}`),
        ...extra.map(([k, v]) => `${pct(k)}=${pct(v)}`),
        ...raw,
      ]);
    const query = fc
      .oneof(
        { weight: 3, arbitrary: fc.constant<string[]>([]) },
        { weight: 3, arbitrary: validQuery },
        { weight: 4, arbitrary: junkQuery },
      )
      .map((parts) => (parts.length ? `?${parts.join('&')}` : ''));

    const junkHeaders = fc
      .record(
        {
          'idempotency-key': fc.oneof(
            headerText(80),
            fc.constantFrom('', 'a'.repeat(64), 'a'.repeat(65), 'x'.repeat(5000)),
          ),
          'x-request-id': fc.oneof(headerText(200), fc.constant('r'.repeat(5000))),
          accept: fc.constantFrom('text/html', '*/*', 'application/xml', 'application/json', ''),
        },
        { requiredKeys: [] },
      )
      // Node sends latin1 header values byte for byte; other text cannot be a header value.
      .map((h) =>
        Object.fromEntries(Object.entries(h).filter(([, v]) => /^[\x20-\xff]*$/.test(v))),
      );
    const headers = fc.oneof(
      { weight: 5, arbitrary: fc.constant<Record<string, string>>({}) },
      {
        weight: 1,
        arbitrary: fc.record({ 'idempotency-key': fc.uuid(), 'x-request-id': fc.uuid() }),
      },
      { weight: 4, arbitrary: junkHeaders },
    );

    const wellFormed = route.requestSchema
      ? validBody(route.requestSchema, fixtureIds)
      : fc.constant('{}');
    const malformed = fc.oneof(
      {
        weight: 6,
        arbitrary: route.requestSchema
          ? schemaBody(route.requestSchema, fixtureIds)
          : fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
      { weight: 2, arbitrary: fc.constantFrom(...RAW_BODIES) },
      { weight: 1, arbitrary: deepNesting },
    );
    const contentType = fc.oneof(
      { weight: 8, arbitrary: fc.constant('application/json') },
      { weight: 2, arbitrary: fc.constantFrom(...ODD_CONTENT_TYPES) },
    );
    const body = fc.oneof(
      // Routes that take a body get one nearly always; the others now and then.
      { weight: route.hasBody ? 1 : 8, arbitrary: fc.constant(undefined) },
      {
        weight: 5,
        arbitrary: wellFormed.map((payload) => ({ contentType: 'application/json', payload })),
      },
      { weight: 5, arbitrary: fc.record({ contentType, payload: malformed }) },
    );
    return fc
      .record({ params: fc.record(params), query, headers, body })
      .map(({ body: b, ...rest }) => ({ ...rest, ...(b ? { body: b } : {}) }))
      .filter((input) => headBytes(route, input) <= MAX_HEAD_BYTES);
  };

  const headBytes = (route: OpenApiRoute, input: FuzzInput) =>
    Buffer.byteLength(fillPath(route.path, input.params, false) + input.query) +
    Object.values(input.headers).reduce((n, v) => n + v.length, 0);

  interface Outcome {
    request: string;
    status: number;
    contentType: string;
    text: string;
  }

  const send = async (route: OpenApiRoute, input: FuzzInput): Promise<Outcome> => {
    const url = fillPath(route.path, input.params, false) + input.query;
    let req = t.http()[route.method](url).timeout(15_000);
    const token = tokenFor(route);
    if (token) req = req.set('authorization', `Bearer ${token}`);
    for (const [name, value] of Object.entries(input.headers)) req = req.set(name, value);
    if (input.body) req = req.set('content-type', input.body.contentType).send(input.body.payload);
    // An event stream that opened stays open: its status and headers are the answer.
    if (route.streaming) req = req.buffer(true).parse(untilEventStream as never);
    const res = await req.ok(() => true);
    const shown = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);
    return {
      request: `${route.method.toUpperCase()} ${shown(url)} headers=${shown(JSON.stringify(input.headers))}${
        input.body
          ? ` content-type=${input.body.contentType} body=${shown(input.body.payload)}`
          : ''
      }`,
      status: res.status,
      contentType: String(res.headers['content-type'] ?? ''),
      text: route.streaming ? String(res.body ?? '') : (res.text ?? ''),
    };
  };

  /** What is wrong with a response (undefined: nothing). */
  const problemWith = (o: Outcome, changed: string[]): string | undefined => {
    if (o.status >= 500) return `answered ${o.status}`;
    if (o.status < 400) return undefined;
    if (!o.contentType.startsWith('application/problem+json')) {
      return `answered ${o.status} as ${o.contentType || 'no content type'}`;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(o.text) as Record<string, unknown>;
    } catch {
      return `answered ${o.status} with a body that is not JSON`;
    }
    if (
      typeof body.type !== 'string' ||
      !/^https?:\/\/\S+\/[a-z0-9]+(-[a-z0-9]+)*$/.test(body.type) ||
      typeof body.title !== 'string' ||
      !body.title ||
      body.status !== o.status ||
      typeof body.detail !== 'string'
    ) {
      return `answered ${o.status} with incomplete problem details`;
    }
    if (changed.length) return `answered ${o.status} but changed ${changed.join(', ')}`;
    return undefined;
  };

  const polluted = () =>
    'rmPolluted' in Object.prototype ||
    (Object.prototype as Record<string, unknown>).rmPolluted !== undefined;

  it('random and malformed requests to every route: never a 5xx, 4xx are problem details and write nothing', async () => {
    const failures: string[] = [];
    const stats: string[] = [];
    let last: DatabaseSnapshot = await snapshotDatabase(db);
    for (const route of routes) {
      const property = fc.asyncProperty(inputFor(route), async (input) => {
        const before = last;
        const outcome = await send(route, input);
        last = await snapshotDatabase(db);
        const wrong = problemWith(outcome, changedTables(before, last));
        if (wrong) throw new Error(`${outcome.request}\n→ ${wrong}: ${outcome.text.slice(0, 500)}`);
        if (polluted()) throw new Error(`${outcome.request}\n→ polluted Object.prototype`);
        if (process.env.FUZZ_STATS)
          stats.push(`${route.key} ${outcome.status} ${outcome.text.slice(0, 120)}`);
      });
      // Keeps shrinking bounded: a failure is reported with its seed either way.
      const result = await fc.check(property, {
        numRuns: RUNS,
        seed: routeSeed(route),
        endOnFailure: false,
      });
      if (result.failed) {
        // The counterexample itself can be megabytes (deep nesting): report the request as the
        // property described it (truncated), with the seed and path that replay it.
        const error = result.errorInstance;
        failures.push(
          `${route.key} [seed ${result.seed}, path "${result.counterexamplePath}", after ${result.numRuns} runs]\n` +
            (error instanceof Error ? error.message : String(error)),
        );
      }
      // Shrinking replays requests; refresh the baseline for the next route.
      last = await snapshotDatabase(db);
    }
    if (process.env.FUZZ_STATS) writeFileSync(process.env.FUZZ_STATS, stats.join('\n'));
    expect(failures).toEqual([]);
  }, 120_000);

  it('oversized payloads answer 413 problem details on every route and write nothing', async () => {
    const failures: string[] = [];
    const big = JSON.stringify({ body: 'x'.repeat(BODY_LIMIT + 1024) });
    for (const route of routes) {
      if (route.method === 'get') continue; // a GET body is never read
      const params = Object.fromEntries(route.pathParams.map((n) => [n, fixtureFor(route, n)]));
      const before = await snapshotDatabase(db);
      const outcome = await send(route, {
        params,
        query: '',
        headers: {},
        body: { contentType: 'application/json', payload: big },
      });
      const changed = changedTables(before, await snapshotDatabase(db));
      const wrong =
        outcome.status !== 413 ? `answered ${outcome.status}` : problemWith(outcome, changed);
      if (wrong) failures.push(`${route.key}: ${wrong}: ${outcome.text.slice(0, 300)}`);
    }
    expect(failures).toEqual([]);
  });

  it('deeply nested JSON bodies (depth 500 to 10 000) answer 4xx problem details on every route that reads a body, and write nothing', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      if (!route.hasBody) continue; // the routes that take no body do not parse one
      const params = Object.fromEntries(route.pathParams.map((n) => [n, fixtureFor(route, n)]));
      const wrongs: string[] = [];
      for (const depth of [500, 2_000, 10_000]) {
        for (const kind of ['object', 'array', 'mixed'] as const) {
          const before = await snapshotDatabase(db);
          const outcome = await send(route, {
            params,
            query: '',
            headers: {},
            body: { contentType: 'application/json', payload: nested(depth, kind) },
          });
          const changed = changedTables(before, await snapshotDatabase(db));
          const wrong =
            outcome.status < 400 ? `answered ${outcome.status}` : problemWith(outcome, changed);
          if (wrong) wrongs.push(`depth ${depth} ${kind}: ${wrong}`);
        }
      }
      if (wrongs.length) failures.push(`${route.key}: ${wrongs.join('; ')}`);
    }
    expect(failures).toEqual([]);
  });

  it('an explicit null in any field of a valid body never answers 5xx, and a refusal writes nothing', async () => {
    /** A deterministic valid value per property (the one a client would most plainly send). */
    const example = (name: string, schema: JsonSchema): unknown => {
      if (schema.enum?.length) return schema.enum[0];
      if (schema.type === 'boolean') return true;
      if (schema.type === 'array') return schema.items?.enum?.slice(0, 1) ?? [];
      if (schema.type === 'number' || schema.type === 'integer') return schema.minimum ?? 1;
      if (schema.format === 'uuid') return name === 'upToMessageId' ? message : p2.userId;
      if (name === 'url') return 'http://127.0.0.1:9/hook';
      return `null test ${name}`;
    };
    const failures: string[] = [];
    for (const route of routes) {
      const schema = route.requestSchema;
      if (!schema?.properties) continue;
      const params = Object.fromEntries(route.pathParams.map((n) => [n, fixtureFor(route, n)]));
      const base = Object.fromEntries(
        (schema.required ?? []).map((k) => [k, example(k, schema.properties![k] ?? {})]),
      );
      for (const field of Object.keys(schema.properties)) {
        const before = await snapshotDatabase(db);
        const outcome = await send(route, {
          params,
          query: '',
          headers: {},
          body: {
            contentType: 'application/json',
            payload: JSON.stringify({ ...base, [field]: null }),
          },
        });
        const changed = changedTables(before, await snapshotDatabase(db));
        const wrong = problemWith(outcome, changed);
        if (wrong) failures.push(`${outcome.request}: ${wrong}: ${outcome.text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('path parameters the router refuses (bad percent-encoding, over-long) answer 4xx problem details on every route, and write nothing', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      if (!route.pathParams.length) continue;
      // What went wrong → the parameters it went wrong for (one line per kind of answer).
      const wrongs = new Map<string, string[]>();
      for (const name of route.pathParams) {
        for (const bad of MALFORMED_PATH_PARAMS) {
          const params = Object.fromEntries(
            route.pathParams.map((n) => [n, n === name ? bad : fixtureFor(route, n)]),
          );
          const before = await snapshotDatabase(db);
          const outcome = await send(route, { params, query: '', headers: {} });
          const changed = changedTables(before, await snapshotDatabase(db));
          const wrong =
            outcome.status < 400 ? `answered ${outcome.status}` : problemWith(outcome, changed);
          if (wrong) {
            const shown = `{${name}}=${bad.length > 20 ? `<${bad.length} chars>` : bad}`;
            wrongs.set(wrong, [...(wrongs.get(wrong) ?? []), shown]);
          }
        }
      }
      for (const [wrong, which] of wrongs)
        failures.push(`${route.key} ${which.join(' ')}: ${wrong}`);
    }
    expect(failures).toEqual([]);
  });

  it('a request line or headers past the server limit answer 431 problem details', async () => {
    const failures: string[] = [];
    const longQuery = await t
      .http()
      .get(`/api/v1/me?q=${'x'.repeat(20_000)}`)
      .set(bearer(p1));
    const longHeader = await t
      .http()
      .get('/api/v1/me')
      .set(bearer(p1))
      .set('x-padding', 'x'.repeat(20_000));
    for (const [what, res] of [
      ['a 20 KB query string', longQuery],
      ['a 20 KB header', longHeader],
    ] as const) {
      const outcome: Outcome = {
        request: what,
        status: res.status,
        contentType: String(res.headers['content-type'] ?? ''),
        text: res.text ?? '',
      };
      const wrong =
        outcome.status !== 431 ? `answered ${outcome.status}` : problemWith(outcome, []);
      if (wrong) failures.push(`GET /api/v1/me with ${what}: ${wrong}: ${outcome.text}`);
    }
    expect(failures).toEqual([]);
  });
});

describe('forged cursors: real cursors with their decoded fields mutated', () => {
  let t: TestApp;
  let owner: Member;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
      WORKER_ENABLED: 'false',
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
    });
    const org = t.createOrg();
    owner = await t.createMember(org, { role: 'org_admin' });
    // Two of everything a list route pages through, so that a page of one has a next cursor.
    for (let i = 0; i < 2; i++) {
      const other = await t.createMember(org);
      const started = await t
        .http()
        .post('/api/v1/messages/threads')
        .set(bearer(other))
        .send({ recipientId: owner.userId, body: `hello ${i}` });
      expect(started.status).toBe(201);
      expect(
        (await t.http().post(`/api/v1/messages/users/${other.userId}/block`).set(bearer(owner)))
          .status,
      ).toBe(201);
      const endpoint = await t
        .http()
        .post('/api/v1/webhooks/endpoints')
        .set(bearer(owner))
        .send({ url: `http://127.0.0.1:9/hook${i}`, events: ['message.created'] });
      expect(endpoint.status).toBe(201);
    }
  }, 60_000);

  afterAll(() => t?.close());

  /** The list routes (no path parameter: the endpoint deliveries route has too few rows here). */
  const LISTS = [
    '/api/v1/messages/threads',
    '/api/v1/messages/recipients',
    '/api/v1/messages/users/blocked',
    '/api/v1/webhooks/endpoints',
  ];

  const mutation = fc.oneof(
    fc.constantFrom<unknown>(...TIMESTAMPISH),
    fc.constantFrom<unknown>(
      '2022-02-30T10:00:00.000000Z',
      '2021-02-29T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T23:60:00Z',
      '2024-01-01T23:59:60Z',
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999999Z',
      '2024-01-01T00:00:00.1234567Z',
      '',
      '\u0000',
      '00000000-0000-0000-0000-000000000000',
    ),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.string({ maxLength: 30 }),
    fc.uuid(),
    fc.integer(),
    fc.double(),
    fc.constant(null),
    fc.jsonValue({ maxDepth: 2 }),
  );

  it('answer a page or 400 validation-failed on every list route, never a 5xx', async () => {
    const failures: string[] = [];
    for (const path of LISTS) {
      const first = await t.http().get(`${path}?limit=1`).set(bearer(owner));
      expect({ path, status: first.status }).toEqual({ path, status: 200 });
      const cursor = first.body.nextCursor as string;
      expect({ path, cursor: typeof cursor }).toEqual({ path, cursor: 'string' });
      const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
      const property = fc.asyncProperty(
        fc.nat(decoded.length - 1),
        mutation,
        async (index, value) => {
          const forged = [...decoded];
          forged[index] = value;
          const encoded = Buffer.from(JSON.stringify(forged)).toString('base64url');
          const res = await t.http().get(`${path}?limit=1&cursor=${encoded}`).set(bearer(owner));
          const ok =
            res.status === 200 ||
            (res.status === 400 &&
              String(res.body.type).endsWith('/validation-failed') &&
              res.body.errors?.[0]?.field === 'cursor');
          if (!ok)
            throw new Error(`${path} cursor ${JSON.stringify(forged)} → ${res.status} ${res.text}`);
        },
      );
      const result = await fc.check(property, { numRuns: 60, seed: SEED, endOnFailure: true });
      if (result.failed) failures.push(String(result.errorInstance));
    }
    expect(failures).toEqual([]);
  }, 60_000);
});

import { WEBHOOK_EVENT_TYPES } from '../../src/platform/queues/outbox-types';
import { renderPayload, type EventFacts } from '../../src/webhooks/payload';
import { startTestApp, type TestApp } from '../support/test-app';

interface Schema {
  type?: string;
  enum?: unknown[];
  $ref?: string;
  allOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  nullable?: boolean;
  example?: unknown;
  description?: string;
  oneOf?: Schema[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  example?: unknown;
  examples?: unknown;
  schema?: Schema;
}

interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: {
    content: Record<string, { schema?: Schema; example?: unknown; examples?: unknown }>;
  };
  [extension: `x-${string}`]: unknown;
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const ref = (name: string) => `#/components/schemas/${name}`;

/** Every object in the document, with its path (`components.schemas.X.properties.y`). */
function* nodes(
  value: unknown,
  path: string[] = [],
): Generator<[string[], Record<string, unknown>]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* nodes(item, [...path, String(i)]);
  } else if (value && typeof value === 'object') {
    yield [path, value as Record<string, unknown>];
    for (const [key, item] of Object.entries(value)) yield* nodes(item, [...path, key]);
  }
}

/** The named schema a property, parameter or item refers to (directly or through allOf). */
function refOf(schema: Schema | undefined): string | undefined {
  if (!schema) return undefined;
  if (schema.$ref) return schema.$ref;
  if (schema.allOf?.length === 1) return schema.allOf[0].$ref;
  return undefined;
}

/**
 * What a generated client (openapi-typescript) and Swagger UI's "Try it out" make of the served
 * document: one named type per enum, integers for counts, no optional parameter pre-filled, and
 * the webhook payloads described.
 */
describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: Document;
  beforeAll(async () => {
    t = await startTestApp();
    doc = (await t.http().get('/docs-json').expect(200)).body as Document;
  });
  afterAll(() => t.close());

  const schemas = () => doc.components.schemas;
  const operations = () =>
    Object.values(doc.paths).flatMap((ops) =>
      Object.entries(ops)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([, op]) => op),
    );
  const operation = (id: string) => {
    const op = operations().find((o) => o.operationId === id);
    if (!op) throw new Error(`no operation ${id}`);
    return op;
  };

  it('resolves every $ref', () => {
    for (const [path, node] of nodes(doc)) {
      if (typeof node.$ref !== 'string') continue;
      const name = node.$ref.replace('#/components/schemas/', '');
      expect([path.join('.'), name in schemas()]).toEqual([path.join('.'), true]);
    }
  });

  it('declares every enum once, as a named schema, and references it everywhere else', () => {
    const inline = [...nodes(doc)]
      .filter(([, node]) => 'enum' in node)
      .map(([path]) => path.join('.'))
      .filter((path) => !/^components\.schemas\.\w+$/.test(path));
    expect(inline).toEqual([]);
    for (const [name, schema] of Object.entries(schemas())) {
      if (!schema.enum) continue;
      expect([name, schema.type, typeof schema.description]).toEqual([name, 'string', 'string']);
    }

    const uses: [string, string, string][] = [
      ['MembershipResponse', 'role', 'MemberRole'],
      ['MembershipResponse', 'visibility', 'MemberVisibility'],
      ['UpdateSettingsDto', 'visibility', 'MemberVisibility'],
      ['ProvisionMemberDto', 'role', 'MemberRole'],
      ['ProvisionMemberDto', 'visibility', 'MemberVisibility'],
      ['MemberSummary', 'role', 'MemberRole'],
      ['ThreadResponse', 'kind', 'ThreadKind'],
      ['NotificationResponse', 'type', 'NotificationType'],
      ['EndpointResponse', 'disabledReason', 'WebhookEndpointDisabledReason'],
      ['EndpointWithSecretResponse', 'disabledReason', 'WebhookEndpointDisabledReason'],
      ['DeliveryResponse', 'eventType', 'WebhookEventType'],
      ['DeliveryResponse', 'status', 'WebhookDeliveryStatus'],
    ];
    for (const [model, property, name] of uses) {
      expect([model, property, refOf(schemas()[model].properties?.[property])]).toEqual([
        model,
        property,
        ref(name),
      ]);
    }
    for (const model of [
      'CreateEndpointDto',
      'UpdateEndpointDto',
      'EndpointResponse',
      'EndpointWithSecretResponse',
    ]) {
      const events = schemas()[model].properties?.events;
      expect([model, events?.type, refOf(events?.items)]).toEqual([
        model,
        'array',
        ref('WebhookEventType'),
      ]);
    }
    const status = operation('listWebhookDeliveries').parameters?.find((p) => p.name === 'status');
    expect(refOf(status?.schema)).toBe(ref('WebhookDeliveryStatus'));
    expect(schemas().WebhookEventType.enum).toEqual([...WEBHOOK_EVENT_TYPES]);
  });

  it('types every count and whole number as an integer (no `number` anywhere)', () => {
    const numbers = [...nodes(doc)]
      .filter(([, node]) => node.type === 'number')
      .map(([path]) => path.join('.'));
    expect(numbers).toEqual([]);

    const counters: [string, string][] = [
      ['MessageResponse', 'seq'],
      ['ThreadResponse', 'unreadCount'],
      ['UnreadCountResponse', 'total'],
      ['UnreadCountResponse', 'threads'],
      ['UnreadChangedEvent', 'total'],
      ['UnreadChangedEvent', 'threads'],
      ['NotificationResponse', 'count'],
      ['ReadAllResponse', 'updated'],
      ['DeliveryResponse', 'attempts'],
      ['DeliveryResponse', 'lastStatusCode'],
      ['AttemptResponse', 'attempt'],
      ['AttemptResponse', 'durationMs'],
      ['AttemptResponse', 'statusCode'],
      ['ProblemDetails', 'status'],
    ];
    for (const [model, property] of counters) {
      expect([model, property, schemas()[model].properties?.[property]?.type]).toEqual([
        model,
        property,
        'integer',
      ]);
    }
    const limits = operations().flatMap((op) =>
      (op.parameters ?? []).filter((p) => p.name === 'limit').map((p) => p.schema?.type),
    );
    expect(limits.length).toBeGreaterThanOrEqual(8);
    expect(new Set(limits)).toEqual(new Set(['integer']));
  });

  it('pre-fills no optional parameter (examples are in descriptions)', () => {
    const prefilled = operations().flatMap((op) =>
      (op.parameters ?? [])
        .filter((p) => !p.required)
        .filter(
          (p) =>
            p.example !== undefined || p.examples !== undefined || p.schema?.example !== undefined,
        )
        .map((p) => `${op.operationId} ${p.in} ${p.name}`),
    );
    expect(prefilled).toEqual([]);
    const cursor = operation('listThreads').parameters?.find((p) => p.name === 'cursor');
    expect(cursor?.description).toMatch(/Example: `[A-Za-z0-9_-]+`/);
  });

  it('sends no fixed idempotency key from the message bodies’ examples', () => {
    for (const model of ['SendMessageDto', 'StartThreadDto']) {
      const key = schemas()[model].properties?.clientMessageId;
      expect(key).toBeDefined();
      expect(key?.example).toBeUndefined();
      expect(key?.description).toMatch(/Example: `/);
    }
    for (const id of ['sendMessage', 'startThread']) {
      const body = operation(id).requestBody?.content['application/json'];
      const examples = Object.values((body?.examples ?? {}) as Record<string, { value: object }>);
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) expect(example.value).not.toHaveProperty('clientMessageId');
    }
  });

  describe('webhook payloads', () => {
    const PAYLOADS = {
      'thread.created': 'WebhookThreadCreatedPayload',
      'message.created': 'WebhookMessageCreatedPayload',
      'message.deleted': 'WebhookMessageDeletedPayload',
      'message.read': 'WebhookMessageReadPayload',
    } as const;

    /** The schema named by a $ref (or allOf of one). */
    const named = (schema: Schema | undefined): Schema => {
      const target = refOf(schema);
      if (!target) throw new Error(`not a reference: ${JSON.stringify(schema)}`);
      return schemas()[target.replace('#/components/schemas/', '')];
    };

    it('has a schema per event type, each mapped from the union and the endpoint registration', () => {
      expect(Object.keys(PAYLOADS).sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
      const union = schemas().WebhookPayload;
      expect(union.discriminator?.propertyName).toBe('type');
      expect(union.discriminator?.mapping).toEqual(
        Object.fromEntries(Object.entries(PAYLOADS).map(([type, name]) => [type, ref(name)])),
      );
      expect(union.oneOf?.map((s) => s.$ref).sort()).toEqual(
        Object.values(PAYLOADS)
          .map((name) => ref(name))
          .sort(),
      );
      expect(operation('createWebhookEndpoint')['x-webhook-payloads']).toEqual(
        Object.fromEntries(
          Object.entries(PAYLOADS).map(([type, name]) => [type, { $ref: ref(name) }]),
        ),
      );
    });

    it('describes exactly the body each delivery POSTs', () => {
      const facts = (type: EventFacts['type']): EventFacts => ({
        type,
        createdAt: '2026-11-26T14:02:55.120Z',
        orgId: '7e57a000-0000-4000-8000-000000000000',
        threadId: '019b6a2e-1111-7e8f-9a0b-1c2d3e4f5a6b',
        messageId: type === 'thread.created' ? null : '019b6a2e-3c4d-7e8f-9a0b-1c2d3e4f5a6b',
        seq: type === 'thread.created' ? null : 7,
        actorId: '7e57a000-0000-4000-8000-0000000000a1',
      });
      for (const [type, name] of Object.entries(PAYLOADS) as [EventFacts['type'], string][]) {
        const schema = schemas()[name];
        expect([name, schema?.type]).toEqual([name, 'object']);
        expect(refOf(schema.properties?.type)).toBe(ref('WebhookEventType'));
        expect(schema.properties?.timestamp).toMatchObject({ type: 'string', format: 'date-time' });
        expect([...(schema.required ?? [])].sort()).toEqual(['data', 'timestamp', 'type']);
        const data = named(schema.properties?.data);
        for (const body of type === 'message.created' ? [null, 'Hello'] : [null]) {
          const payload = JSON.parse(renderPayload(facts(type), body)) as {
            type: string;
            data: Record<string, unknown>;
          };
          expect(Object.keys(schema.properties ?? {}).sort()).toEqual(Object.keys(payload).sort());
          expect(payload.type).toBe(type);
          // Every field sent is described; every required field is sent.
          const described = Object.keys(data.properties ?? {});
          expect([name, Object.keys(payload.data).filter((k) => !described.includes(k))]).toEqual([
            name,
            [],
          ]);
          for (const field of data.required ?? []) expect(payload.data).toHaveProperty(field);
          for (const [field, value] of Object.entries(payload.data)) {
            const property = data.properties?.[field];
            expect([name, field, property?.type]).toEqual([
              name,
              field,
              typeof value === 'number' ? 'integer' : 'string',
            ]);
          }
        }
        expect(data.properties?.body !== undefined).toBe(type === 'message.created');
        expect(data.required ?? []).not.toContain('body');
      }
    });
  });
});

import type TestAgent from 'supertest/lib/agent';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Record<string, unknown>;
}

export interface OpenApiRoute {
  /** `GET /api/v1/messages/threads/{id}`: the key the tests' route tables use. */
  key: string;
  method: HttpMethod;
  path: string;
  parameters: OpenApiParameter[];
  pathParams: string[];
  hasBody: boolean;
  /** The JSON request body's schema, `$ref`s resolved (undefined when the route takes none). */
  requestSchema?: JsonSchema;
  secured: boolean;
  /** The success answer is a Server-Sent Events stream (it stays open). */
  streaming: boolean;
}

export interface JsonSchema {
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  $ref?: string;
  /** A named schema with siblings (description, nullable): `{ allOf: [{ $ref }], … }`. */
  allOf?: JsonSchema[];
}

const METHODS: HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];

/** Every operation of the OpenAPI document the running app serves at /docs-json. */
export async function fetchRoutes(http: () => TestAgent): Promise<OpenApiRoute[]> {
  const res = await http().get('/docs-json');
  if (res.status !== 200) throw new Error(`/docs-json answered ${res.status}`);
  const doc = res.body as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
    security?: unknown[];
    components?: { schemas?: Record<string, JsonSchema> };
  };
  const resolve = (schema: JsonSchema | undefined, depth = 0): JsonSchema | undefined => {
    if (!schema || depth > 8) return schema;
    if (schema.$ref) {
      const name = schema.$ref.replace('#/components/schemas/', '');
      return resolve(doc.components?.schemas?.[name], depth + 1);
    }
    if (schema.allOf) {
      // Named enums are referenced this way: the property is the referenced schema, plus its own
      // description, example or nullable.
      const { allOf, ...own } = schema;
      return resolve(
        Object.assign(
          {},
          ...allOf.map((part) => resolve(part, depth + 1) ?? {}),
          own,
        ) as JsonSchema,
        depth + 1,
      );
    }
    const properties = schema.properties
      ? Object.fromEntries(
          Object.entries(schema.properties).map(([k, v]) => [k, resolve(v, depth + 1) ?? {}]),
        )
      : undefined;
    return { ...schema, properties, items: resolve(schema.items, depth + 1) };
  };
  const routes: OpenApiRoute[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      if (!METHODS.includes(method as HttpMethod)) {
        if (method === 'parameters' || method === 'summary' || method === 'description') continue;
        throw new Error(`unexpected method ${method} on ${path} in the OpenAPI document`);
      }
      const parameters = (op.parameters as OpenApiParameter[] | undefined) ?? [];
      const security = (op.security as unknown[] | undefined) ?? doc.security ?? [];
      const requestBody = op.requestBody as
        { content?: Record<string, { schema?: JsonSchema }> } | undefined;
      routes.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method as HttpMethod,
        path,
        parameters,
        pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]),
        hasBody: Boolean(requestBody),
        requestSchema: resolve(requestBody?.content?.['application/json']?.schema),
        secured: security.length > 0,
        streaming: Object.values(
          (op.responses as Record<string, { content?: Record<string, unknown> }> | undefined) ?? {},
        ).some((r) => Boolean(r.content?.['text/event-stream'])),
      });
    }
  }
  return routes;
}

/** Substitutes `{name}` placeholders (URL-encoded unless `encode` is false). */
export function fillPath(path: string, values: Record<string, string>, encode = true): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for {${name}} in ${path}`);
    return encode ? encodeURIComponent(values[name]) : values[name];
  });
}

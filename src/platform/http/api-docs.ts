import { applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  getSchemaPath,
} from '@nestjs/swagger';
import { PROBLEM_BASE, type FieldError, type ProblemType } from './problem';

export class FieldErrorSchema {
  @ApiProperty({
    example: 'body',
    description: 'The field, query parameter, path parameter or header.',
  })
  field!: string;

  @ApiProperty({ example: 'body must not be empty' })
  message!: string;
}

export class ProblemDetails {
  @ApiProperty({
    example: PROBLEM_BASE + 'validation-failed',
    description: 'A URI ending in a stable slug.',
  })
  type!: string;

  @ApiProperty({ example: 'Validation failed' })
  title!: string;

  @ApiProperty({ type: 'integer', example: 400, description: 'The HTTP status code.' })
  status!: number;

  @ApiProperty({ example: 'body must not be empty' })
  detail!: string;

  @ApiPropertyOptional({ example: '/api/v1/messages/threads', description: 'The request path.' })
  instance?: string;

  @ApiPropertyOptional({
    type: () => [FieldErrorSchema],
    description: 'On validation failures: one entry per refused field.',
  })
  errors?: FieldErrorSchema[];
}

/** The Retry-After header of 429 and 503 answers. */
function retryAfter(description: string, example: number) {
  return {
    'Retry-After': { description, schema: { type: 'integer', minimum: 1, example } },
  };
}

const HEADERS: Record<number, Record<string, unknown>> = {
  429: retryAfter('Seconds until the limit resets; retry after that many seconds.', 1),
  503: retryAfter('Seconds to wait before retrying.', 1),
};

const DEFAULTS: Record<
  number,
  { slug: string; title: string; detail: string; description: string; errors?: FieldError[] }
> = {
  400: {
    slug: 'validation-failed',
    title: 'Validation failed',
    detail: 'limit must be an integer between 1 and 100',
    description: 'Invalid input (problem details with errors[]).',
    errors: [{ field: 'limit', message: 'limit must be an integer between 1 and 100' }],
  },
  401: {
    slug: 'unauthorized',
    title: 'Unauthorized',
    detail: 'A valid bearer token is required (Authorization: Bearer <JWT>).',
    description: 'Missing, malformed, wrongly signed or expired token.',
  },
  403: {
    slug: 'forbidden',
    title: 'Forbidden',
    detail: 'This action requires the role org_admin.',
    description: 'Inactive membership, or a role that may not do this.',
  },
  404: {
    slug: 'not-found',
    title: 'Not found',
    detail: 'Thread was not found.',
    description: 'Unknown, or not visible to you: the two are indistinguishable.',
  },
  409: {
    slug: 'conflict',
    title: 'Conflict',
    detail: 'The request conflicts with the current state.',
    description: 'Conflict.',
  },
  413: {
    slug: 'payload-too-large',
    title: 'Payload too large',
    detail: 'The request body is larger than the limit.',
    description: 'Body over the size limit (BODY_LIMIT_BYTES, 256 KiB by default).',
  },
  415: {
    slug: 'unsupported-media-type',
    title: 'Unsupported media type',
    detail: 'Send the request body as application/json.',
    description: 'Body not sent as application/json.',
  },
  422: {
    slug: 'idempotency-key-reused',
    title: 'Idempotency key reused',
    detail: 'This key was already used for another request.',
    description: 'Unprocessable.',
  },
  429: {
    slug: 'rate-limited',
    title: 'Too many requests',
    detail: 'Too many requests; retry after the number of seconds in Retry-After.',
    description:
      'Rate limited (per user: RATE_LIMIT_READS_PER_SECOND for GET, RATE_LIMIT_WRITES_PER_SECOND otherwise); wait the seconds in Retry-After.',
  },
  503: {
    slug: 'service-unavailable',
    title: 'Service unavailable',
    detail: 'The service is busy; retry shortly.',
    description:
      'Temporarily overloaded (database connection pool saturated); retry after Retry-After.',
  },
};

export interface ProblemDoc {
  status: number;
  /** The name of the example (default: the slug); two examples of one status need two names. */
  key?: string;
  slug?: string;
  title?: string;
  detail?: string;
  description?: string;
  /** The errors[] of the example (validation failures). */
  errors?: FieldError[];
  /** 429 and 503 document a Retry-After header unless this is false. */
  retryAfter?: boolean;
}

interface ProblemExample {
  summary: string;
  value: Record<string, unknown>;
}

interface ProblemResponseEntry {
  description: string;
  content: {
    'application/problem+json': { schema: object; examples: Record<string, ProblemExample> };
  };
  headers?: Record<string, unknown>;
}

const MEDIA = 'application/problem+json';
/** Where @ApiResponse keeps its metadata (API_RESPONSE; @nestjs/swagger does not export it). */
const API_RESPONSE = 'swagger/apiResponse';

function entryFor(status: number, docs: ProblemDoc[]): ProblemResponseEntry {
  const d = DEFAULTS[status] ?? DEFAULTS[400];
  const examples: Record<string, ProblemExample> = {};
  const descriptions: string[] = [];
  for (const doc of docs) {
    const slug = doc.slug ?? d.slug;
    const description = doc.description ?? d.description;
    const errors =
      doc.errors ?? (doc.slug === undefined && doc.detail === undefined ? d.errors : undefined);
    if (!descriptions.includes(description)) descriptions.push(description);
    examples[doc.key ?? slug] ??= {
      summary: description,
      value: {
        type: PROBLEM_BASE + slug,
        title: doc.title ?? d.title,
        status,
        detail: doc.detail ?? d.detail,
        instance: '/api/v1/…',
        ...(errors ? { errors } : {}),
      },
    };
  }
  return {
    description: descriptions.join(' / '),
    content: { [MEDIA]: { schema: { $ref: getSchemaPath(ProblemDetails) }, examples } },
    ...(HEADERS[status] && docs.some((doc) => doc.retryAfter !== false)
      ? { headers: HEADERS[status] }
      : {}),
  };
}

/** `prior` as it was, then what `added` brings: examples by name, descriptions without repeats. */
function merge(prior: unknown, added: ProblemResponseEntry): unknown {
  if (prior === undefined) return added;
  const entry = prior as Partial<ProblemResponseEntry>;
  const examples = entry.content?.[MEDIA]?.examples;
  // Declared by a plain @ApiResponse (e.g. a library's decorator applied earlier): the
  // problem-details declaration is what the filter actually sends.
  if (!examples) return added;
  const descriptions = (entry.description ?? '').split(' / ').filter(Boolean);
  for (const d of added.description.split(' / ')) {
    if (!descriptions.includes(d)) descriptions.push(d);
  }
  const more = Object.entries(added.content[MEDIA].examples).filter(([key]) => !(key in examples));
  return {
    ...entry,
    description: descriptions.join(' / '),
    content: {
      [MEDIA]: { ...entry.content![MEDIA], examples: { ...examples, ...Object.fromEntries(more) } },
    },
    ...(entry.headers || added.headers ? { headers: { ...added.headers, ...entry.headers } } : {}),
  };
}

function addTo(holder: object, status: number, entry: ProblemResponseEntry): void {
  const responses = (Reflect.getOwnMetadata(API_RESPONSE, holder) ?? {}) as Record<string, unknown>;
  Reflect.defineMetadata(
    API_RESPONSE,
    { ...responses, [status]: merge(responses[status], entry) },
    holder,
  );
}

/**
 * One problem-details response. Unlike a plain @ApiResponse, a second declaration of the same
 * status adds its examples rather than replacing the first; and on a controller, it also adds them
 * to the methods that declare that status themselves (whose own declaration would otherwise hide
 * the controller's).
 */
function ApiProblemResponse(status: number, entry: ProblemResponseEntry) {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    if (descriptor) {
      addTo(descriptor.value as object, status, entry);
      return;
    }
    addTo(target, status, entry);
    const prototype = (target as { prototype?: object }).prototype;
    if (!prototype) return;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (name === 'constructor') continue;
      const method = Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown;
      if (typeof method !== 'function') continue;
      const own = Reflect.getOwnMetadata(API_RESPONSE, method) as
        Record<string, { content?: Record<string, unknown> } | undefined> | undefined;
      // Only into the method's own problem-details declaration of that status.
      if (own?.[status]?.content?.[MEDIA]) addTo(method, status, entry);
    }
  };
}

/** A declared problem (defineProblem) as its documentation entry. */
export function docOf(problem: ProblemType | ProblemDoc): ProblemDoc {
  if (typeof problem !== 'function') return problem;
  return {
    status: problem.status,
    slug: problem.slug,
    title: problem.title,
    detail: problem.detail,
    description: problem.description,
    ...(problem.key ? { key: problem.key } : {}),
    ...(problem.field ? { errors: [{ field: problem.field, message: problem.detail }] } : {}),
  };
}

export type ProblemEntry = number | ProblemDoc | ProblemType;

/**
 * Documents problem-details responses: a status (its generic example), a declared problem
 * (defineProblem), or a full description of a specific one.
 */
export function ApiProblems(...problems: ProblemEntry[]) {
  const byStatus = new Map<number, ProblemDoc[]>();
  for (const p of problems) {
    const doc = typeof p === 'number' ? { status: p } : docOf(p);
    byStatus.set(doc.status, [...(byStatus.get(doc.status) ?? []), doc]);
  }
  return applyDecorators(
    ApiExtraModels(ProblemDetails),
    ...[...byStatus.entries()].map(([status, docs]) =>
      ApiProblemResponse(status, entryFor(status, docs)),
    ),
  );
}

/** Any route: a query parameter it does not take (or an inherited name such as `constructor`). */
export const UNKNOWN_QUERY: ProblemDoc = {
  status: 400,
  key: 'unknown-query-parameter',
  slug: 'validation-failed',
  title: 'Validation failed',
  detail: 'limt is not a known query parameter',
  errors: [{ field: 'limt', message: 'limt is not a known query parameter' }],
  description: 'A query parameter the route does not take.',
};

/** A route without a request body: a non-empty body is refused. */
export const UNEXPECTED_BODY: ProblemDoc = {
  status: 400,
  key: 'unexpected-body',
  slug: 'validation-failed',
  title: 'Validation failed',
  detail: 'reason is not a known field',
  errors: [{ field: 'reason', message: 'reason is not a known field' }],
  description: 'A non-empty body on a route that takes none.',
};

/** A path parameter that is not a UUID. */
export function invalidUuid(name: string): ProblemDoc {
  const message = `${name} must be a UUID`;
  return {
    status: 400,
    key: `invalid-${name}`,
    slug: 'validation-failed',
    title: 'Validation failed',
    detail: message,
    errors: [{ field: name, message }],
    description: `${name} is not a UUID.`,
  };
}

/** A body field refused by validation. */
export function invalidField(field: string, message: string): ProblemDoc {
  return {
    status: 400,
    key: 'validation-failed',
    slug: 'validation-failed',
    title: 'Validation failed',
    detail: message,
    errors: [{ field, message }],
    description: 'Invalid input (problem details with errors[]).',
  };
}

/** A route that takes a JSON body: malformed JSON (400), too large (413), not JSON (415). */
export function ApiJsonBody() {
  return ApiProblems(
    {
      status: 400,
      key: 'malformed-json',
      slug: 'bad-request',
      title: 'Bad request',
      detail: 'The request body is not valid JSON.',
      description: 'The body is not valid JSON (or nested more than 32 levels deep).',
    },
    413,
    415,
  );
}

/** Every route: unknown query parameters are refused with 400 (UnexpectedBodyGuard). */
export function ApiAnyRoute() {
  return ApiProblems(UNKNOWN_QUERY);
}

/** A member route: bearer auth; 400 (unknown query parameter), 401, 403, 429, 503 documented. */
export function ApiMemberRoute() {
  return applyDecorators(
    ApiBearerAuth('bearer'),
    ApiProblems(
      UNKNOWN_QUERY,
      401,
      {
        status: 403,
        key: 'membership-inactive',
        slug: 'membership-inactive',
        title: 'Membership inactive',
        detail: 'Your membership in this organization is inactive.',
        description: 'Inactive membership.',
      },
      {
        status: 403,
        key: 'not-a-member',
        detail: 'You are not a member of this organization.',
        description: 'No membership in the token’s org (and just-in-time provisioning is off).',
      },
      {
        status: 403,
        key: 'service-token',
        detail: 'Service tokens may only call the provisioning API.',
        description: 'A service token on a member route.',
      },
      429,
      503,
    ),
  );
}

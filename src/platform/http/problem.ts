import { HttpStatus } from '@nestjs/common';

export const PROBLEM_BASE = 'https://resident-messaging.dev/problems/';

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, as rendered on the wire. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
}

/**
 * A refusal with a stable slug. Thrown by services and guards; rendered by ProblemDetailsFilter.
 * Messages must never say which private rule refused (blocks, other orgs): use the generic
 * constructors below for those.
 */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

/**
 * One kind of refusal, declared once with everything both the code and the API documentation
 * need: thrown as `Problem()` (or `Problem({ detail })` where the detail depends on the request),
 * documented by passing it to @Endpoint({ problems }) / ApiProblems. Nothing is written twice.
 */
export interface ProblemSpec {
  status: number;
  slug: string;
  title: string;
  detail: string;
  /** When and why the API answers it (the OpenAPI response description). */
  description: string;
  /** The input the problem is about: errors[] then names it, with the detail as its message. */
  field?: string;
  /** The example's name when a route documents several problems of one status. */
  key?: string;
  headers?: Record<string, string>;
}

export type ProblemType = ProblemSpec &
  ((overrides?: { detail?: string; headers?: Record<string, string> }) => ProblemError);

export function defineProblem(spec: ProblemSpec): ProblemType {
  const make = (overrides: { detail?: string; headers?: Record<string, string> } = {}) => {
    const detail = overrides.detail ?? spec.detail;
    return new ProblemError(
      spec.status,
      spec.slug,
      spec.title,
      detail,
      spec.field ? [{ field: spec.field, message: detail }] : undefined,
      overrides.headers ?? spec.headers,
    );
  };
  return Object.assign(make, spec);
}

/** The one 404 of an object kind: every object the caller may not see answers it too. */
export function notFoundProblem(what: string, description: string, key?: string): ProblemType {
  return defineProblem({
    status: 404,
    slug: 'not-found',
    title: 'Not found',
    detail: `${what} was not found.`,
    description,
    ...(key ? { key } : {}),
  });
}

export const TITLES: Record<number, [slug: string, title: string]> = {
  400: ['bad-request', 'Bad request'],
  401: ['unauthorized', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  409: ['conflict', 'Conflict'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  422: ['unprocessable-content', 'Unprocessable content'],
  429: ['rate-limited', 'Too many requests'],
  500: ['internal-error', 'Internal server error'],
  503: ['service-unavailable', 'Service unavailable'],
};

/** The wire form of a problem: the filter, the dashboard's guard and the worker's probes send it. */
export function problemBody(problem: ProblemError, instance: string): ProblemBody {
  const body: ProblemBody = {
    type: PROBLEM_BASE + problem.slug,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    instance,
  };
  if (problem.errors?.length) body.errors = problem.errors;
  return body;
}

export function problemFor(status: number, detail?: string): ProblemError {
  const [slug, title] = TITLES[status] ?? TITLES[status >= 500 ? 500 : 400];
  return new ProblemError(status, slug, title, detail ?? title + '.');
}

export const Problems = {
  validation: (errors: FieldError[]) =>
    new ProblemError(
      HttpStatus.BAD_REQUEST,
      'validation-failed',
      'Validation failed',
      errors.length === 1 ? errors[0].message : `${errors.length} fields are invalid.`,
      errors,
    ),
  badRequest: (detail: string, field?: string) =>
    new ProblemError(
      400,
      'bad-request',
      'Bad request',
      detail,
      field ? [{ field, message: detail }] : undefined,
    ),
  /** The one 404 for anything the caller may not see, whatever the reason. */
  notFound: (what: string) =>
    new ProblemError(404, 'not-found', 'Not found', `${what} was not found.`),
  forbidden: (detail: string) => new ProblemError(403, 'forbidden', 'Forbidden', detail),
  /** With the RFC 6750 challenge, so clients know a bearer token is what is missing. */
  unauthorized: (detail = 'A valid bearer token is required.', expired = false) =>
    new ProblemError(401, 'unauthorized', 'Unauthorized', detail, undefined, {
      'www-authenticate': expired
        ? 'Bearer realm="resident-messaging", error="invalid_token", error_description="The token has expired"'
        : 'Bearer realm="resident-messaging"',
    }),
  conflict: (slug: string, title: string, detail: string) =>
    new ProblemError(409, slug, title, detail),
  unprocessable: (slug: string, title: string, detail: string) =>
    new ProblemError(422, slug, title, detail),
  unavailable: (detail: string) =>
    new ProblemError(503, 'service-unavailable', 'Service unavailable', detail, undefined, {
      'retry-after': '1',
    }),
};

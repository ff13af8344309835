import type { components } from './schema.js';

export type ProblemDetails = components['schemas']['ProblemDetails'];
export type FieldError = NonNullable<ProblemDetails['errors']>[number];

/**
 * A non-2xx answer of the API, as its RFC 9457 problem details: `status`, `type` (a URI ending in a
 * stable slug, also in `slug`), `title`, `detail`, and on validation failures `errors` (one per
 * refused field). `retryAfter` is the server's `Retry-After` in seconds, when it sent one.
 */
export class ProblemError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly instance?: string;
  readonly errors?: FieldError[];
  readonly retryAfter?: number;

  constructor(problem: ProblemDetails, retryAfter?: number) {
    super(problem.detail || problem.title);
    this.name = 'ProblemError';
    this.status = problem.status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.instance = problem.instance;
    this.errors = problem.errors;
    this.retryAfter = retryAfter;
  }

  /** The last path segment of `type`, e.g. `blocked-by-you`, `validation-failed`. */
  get slug(): string {
    return this.type.slice(this.type.lastIndexOf('/') + 1);
  }

  /** Builds the error from a response whose body may or may not be problem details. */
  static from(response: Response, body: unknown): ProblemError {
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    if (isProblem(body)) return new ProblemError(body, retryAfter);
    const text = typeof body === 'string' && body ? body : response.statusText;
    return new ProblemError(
      {
        type: 'about:blank',
        title: response.statusText || `HTTP ${response.status}`,
        status: response.status,
        detail: text || `The server answered ${response.status}.`,
      },
      retryAfter,
    );
  }
}

function isProblem(body: unknown): body is ProblemDetails {
  if (!body || typeof body !== 'object') return false;
  const p = body as Record<string, unknown>;
  return typeof p.type === 'string' && typeof p.status === 'number' && typeof p.title === 'string';
}

/** `Retry-After` in seconds: delta-seconds or an HTTP date; undefined when absent or invalid. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

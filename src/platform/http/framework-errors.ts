import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_BASE, Problems, problemFor, type ProblemBody } from './problem';
import { sendProblem } from './problem-details.filter';

/** Deeper JSON than this is refused with 400 before it reaches validation (which recurses). */
export const MAX_JSON_DEPTH = 32;

/**
 * Fastify's own JSON parser (prototype-poisoning checks included), plus a nesting limit checked
 * without recursion.
 */
export function installJsonParser(fastify: FastifyInstance, bodyLimit: number): void {
  // JSON.parse makes "__proto__" and "constructor" plain own keys; they are refused below as
  // unknown fields (with the field named), like any other name no DTO declares.
  const parse = fastify.getDefaultJsonParser('ignore', 'ignore');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit },
    (request, body, done) => {
      void parse(request, body as string, (error: Error | null, value?: unknown) => {
        if (error) return done(error, undefined);
        if (depthExceeds(value, MAX_JSON_DEPTH)) {
          return done(
            Object.assign(
              new Error(`The request body is nested more than ${MAX_JSON_DEPTH} levels deep.`),
              { statusCode: 400 },
            ),
            undefined,
          );
        }
        const inherited = inheritedName(value);
        if (inherited !== undefined) {
          return done(
            Problems.validation([
              { field: inherited, message: `${inherited} is not a known field` },
            ]),
            undefined,
          );
        }
        done(null, value);
      });
    },
  );
}

/**
 * Names every object inherits (constructor, toString, __proto__ …): the validation pipe cannot
 * tell such a key in a body from the inherited member, so it would let it through as known.
 */
export const INHERITED_NAMES: ReadonlySet<string> = new Set(
  Object.getOwnPropertyNames(Object.prototype),
);

/** The path of the first own key anywhere in `value` that is an inherited name, if any. */
export function inheritedName(value: unknown, path = ''): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const key of Object.keys(value)) {
    const field = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (!Array.isArray(value) && INHERITED_NAMES.has(key)) return field;
    const found = inheritedName((value as Record<string, unknown>)[key], field);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Errors the router raises before any route runs (undecodable or over-long path parameters). */
export function frameworkErrors(
  error: Error & { statusCode?: number },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const status =
    error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  sendProblem(
    reply,
    request,
    problemFor(
      status,
      status === 414 ? 'A path parameter is too long.' : 'The request URL is malformed.',
    ),
  );
}

/** Errors of the HTTP parser itself (headers too large, bad request line): answered on the socket. */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const title = status === 431 ? 'Request header fields too large' : 'Bad request';
  const body: ProblemBody = {
    type: PROBLEM_BASE + (status === 431 ? 'headers-too-large' : 'bad-request'),
    title,
    status,
    detail:
      status === 431
        ? 'The request line or headers are larger than the server accepts.'
        : 'The request could not be parsed.',
  };
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
  );
}

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, hostOf, isBlockedAddress, systemResolver, type Resolver } from './ssrf';
import { parseRetryAfter } from './retry-policy';

export const MAX_RESPONSE_BYTES = 4096;

/**
 * Connections to receivers are kept alive and reused (one pool per origin, as Node's agents key
 * their sockets by host and port): an attempt to a receiver seen recently costs no TCP or TLS
 * handshake. The bound on connections per origin is the relay's (WEBHOOK_CONCURRENCY_PER_ENDPOINT
 * deliveries of an endpoint in flight, over all workers); the agent's own, above any sensible
 * setting of that, only keeps an attempt from waiting for a socket while its timeout runs. An idle connection
 * is closed after IDLE_SOCKET_MS (idle ones never keep a process from exiting: Node unrefs them). The SSRF guard runs when a connection is made (its `lookup`), so
 * a reused connection is one that passed it.
 */
const MAX_SOCKETS_PER_ORIGIN = 256;
// Under the keep-alive timeout of common servers (Node's is 5 s), so that we close first.
const IDLE_SOCKET_MS = 4_000;
const agentOptions = {
  keepAlive: true,
  maxSockets: MAX_SOCKETS_PER_ORIGIN,
  maxFreeSockets: MAX_SOCKETS_PER_ORIGIN,
  timeout: IDLE_SOCKET_MS,
  scheduling: 'lifo' as const,
};
/** By whether private addresses are allowed: a connection is only reused under the rule it passed. */
const agents = [false, true].map(() => ({
  'http:': new HttpAgent(agentOptions),
  'https:': new HttpsAgent(agentOptions),
}));
const agentFor = (protocol: string, allowPrivate: boolean) =>
  agents[allowPrivate ? 1 : 0][protocol === 'https:' ? 'https:' : 'http:'];

export interface PostResult {
  /** The receiver's status code, or null when no response arrived. */
  statusCode: number | null;
  ok: boolean;
  error: string | null;
  /** At most MAX_RESPONSE_BYTES of the response body. */
  responseBody: string | null;
  durationMs: number;
  retryAfterSeconds: number | null;
}

/**
 * One delivery attempt: POST the signed body, succeed only on a 2xx within the timeout, never
 * follow redirects, read at most 4 KB of the answer, and connect only to addresses that pass the
 * SSRF guard (checked on the resolved address, at connect time).
 */
export function postWebhook(input: {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
  resolver?: Resolver;
}): Promise<PostResult> {
  const started = Date.now();
  const done = (partial: Omit<PostResult, 'durationMs'>): PostResult => ({
    ...partial,
    durationMs: Date.now() - started,
  });
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    return Promise.resolve(
      done({
        statusCode: null,
        ok: false,
        error: 'invalid url',
        responseBody: null,
        retryAfterSeconds: null,
      }),
    );
  }
  const host = hostOf(url);
  if (
    !input.allowPrivate &&
    (url.protocol !== 'https:' || (isIP(host) && isBlockedAddress(host)))
  ) {
    return Promise.resolve(
      done({
        statusCode: null,
        ok: false,
        error: 'refused: internal address or non-https url',
        responseBody: null,
        retryAfterSeconds: null,
      }),
    );
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(done(result));
    };
    let current: ReturnType<typeof send> | undefined;
    // `retry`: a kept-alive connection the receiver closed just as we reused it fails at once,
    // before any answer (ECONNRESET, EPIPE); the request then goes once more on a new connection.
    const post = (retry: boolean) => {
      let answered = false;
      const req = send(
        url,
        {
          method: 'POST',
          headers: { ...input.headers, 'content-length': Buffer.byteLength(input.body) },
          lookup: guardedLookup(input.resolver ?? systemResolver, input.allowPrivate),
          agent: agentFor(url.protocol, input.allowPrivate),
        },
        (res: IncomingMessage) => {
          answered = true;
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          const complete = (drained: boolean) => {
            const responseBody = Buffer.concat(chunks)
              .subarray(0, MAX_RESPONSE_BYTES)
              .toString('utf8');
            const ok = status >= 200 && status < 300;
            const retryAfter =
              status === 429 || status === 503 ? parseRetryAfter(header(res, 'retry-after')) : null;
            finish({
              statusCode: status,
              ok,
              error: ok
                ? null
                : status >= 300 && status < 400
                  ? `redirect (${status}) not followed`
                  : `HTTP ${status}`,
              responseBody,
              retryAfterSeconds: retryAfter,
            });
            // A response read to its end leaves the connection to be reused; a longer one is cut.
            if (!drained) res.destroy();
          };
          res.on('data', (chunk: Buffer) => {
            if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
            size += chunk.length;
            if (size >= MAX_RESPONSE_BYTES) complete(false);
          });
          res.on('end', () => complete(true));
          res.on('error', () => complete(false));
        },
      );
      current = req;
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (
          retry &&
          !settled &&
          !answered &&
          req.reusedSocket &&
          (error.code === 'ECONNRESET' || error.code === 'EPIPE')
        ) {
          post(false);
          return;
        }
        finish({
          statusCode: null,
          ok: false,
          error: error.message,
          responseBody: null,
          retryAfterSeconds: null,
        });
      });
      req.end(input.body);
    };
    const timer = setTimeout(() => {
      current?.destroy(new Error(`timed out after ${input.timeoutMs} ms`));
    }, input.timeoutMs);
    post(true);
  });
}

function header(res: IncomingMessage, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

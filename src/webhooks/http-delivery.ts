import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, hostOf, isBlockedAddress, systemResolver, type Resolver } from './ssrf';
import { parseRetryAfter } from './retry-policy';

export const MAX_RESPONSE_BYTES = 4096;

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
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...input.headers, 'content-length': Buffer.byteLength(input.body) },
        lookup: guardedLookup(input.resolver ?? systemResolver, input.allowPrivate),
        agent: false,
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        const complete = () => {
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
          res.destroy();
        };
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
          size += chunk.length;
          if (size >= MAX_RESPONSE_BYTES) complete();
        });
        res.on('end', complete);
        res.on('error', complete);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`timed out after ${input.timeoutMs} ms`));
    }, input.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish({
        statusCode: null,
        ok: false,
        error: error.message,
        responseBody: null,
        retryAfterSeconds: null,
      }),
    );
    req.end(input.body);
  });
}

function header(res: IncomingMessage, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

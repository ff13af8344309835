import { createHash, timingSafeEqual } from 'node:crypto';

export type OperatorCheck =
  { ok: true } | { ok: false; status: 401 } | { ok: false; status: 429; retryAfterSeconds: number };

export interface OperatorAuthOptions {
  user: string;
  password: string;
  /** Failed attempts allowed per client address and window before 429. */
  maxFailures?: number;
  windowMs?: number;
  now?: () => number;
}

/**
 * HTTP Basic auth for the operators' surfaces (queue dashboard, metrics). The credentials are
 * compared as SHA-256 digests in constant time, so neither their content nor their length shows
 * in the timing; the scheme name is case-insensitive (RFC 9110); failed attempts are counted per
 * client address and, past `maxFailures` in a window, every attempt from that address answers
 * 429 with Retry-After until the window ends. The counts live in this process (they must work
 * while Redis is down): with N API processes an address gets at most N × maxFailures guesses a
 * window.
 */
export class OperatorAuth {
  private readonly expected: Buffer;
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(options: OperatorAuthOptions) {
    this.expected = digest(`${options.user}:${options.password}`);
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * `alsoAccept`: another credential the surface takes (the metrics bearer token); it passes
   * like the operator's, and failing both counts one failed attempt.
   */
  check(
    authorization: string | undefined,
    clientAddress: string,
    alsoAccept?: (authorization: string | undefined) => boolean,
  ): OperatorCheck {
    const now = this.now();
    const record = this.failures.get(clientAddress);
    if (record && record.resetAt <= now) this.failures.delete(clientAddress);
    const current = this.failures.get(clientAddress);
    if (current && current.count >= this.maxFailures) {
      return {
        ok: false,
        status: 429,
        retryAfterSeconds: Math.max(1, Math.ceil((current.resetAt - now) / 1000)),
      };
    }
    const operator = timingSafeEqual(digest(credentialsOf(authorization)), this.expected);
    const other = alsoAccept ? alsoAccept(authorization) : false;
    if (operator || other) return { ok: true };
    if (authorization !== undefined) this.countFailure(clientAddress, now);
    return { ok: false, status: 401 };
  }

  private countFailure(clientAddress: string, now: number): void {
    if (this.failures.size >= 10_000) {
      for (const [address, r] of this.failures) if (r.resetAt <= now) this.failures.delete(address);
      // Still full: an address flood. Forget the oldest rather than grow without bound.
      if (this.failures.size >= 10_000) {
        this.failures.delete(this.failures.keys().next().value as string);
      }
    }
    const record = this.failures.get(clientAddress) ?? { count: 0, resetAt: now + this.windowMs };
    record.count++;
    this.failures.set(clientAddress, record);
  }
}

/** "user:password" from a Basic authorization header (any case of the scheme); '' otherwise. */
export function credentialsOf(authorization: string | undefined): string {
  const match = /^basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(authorization ?? '');
  return match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
}

/**
 * A check of `Authorization: Bearer <token>` against `token`, in constant time (SHA-256 digests,
 * so the length does not show either). The scheme name is case-insensitive.
 */
export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    const match = /^bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(authorization ?? '');
    return timingSafeEqual(digest(match ? match[1] : ''), expected) && match !== null;
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

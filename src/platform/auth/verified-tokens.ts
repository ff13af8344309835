import type { Principal } from './principal';

/**
 * Bearer tokens already verified, with the principal each gave (issue 17: verifying a token
 * through Passport and jsonwebtoken was a tenth of a cheap request's CPU, and a client sends the
 * same token with every request). Keyed by the whole Authorization header, signature included, so
 * only the exact token verified earlier hits. An entry lasts until the token's `exp` and at most
 * `maxAgeMs` (so a key withdrawn from the JWKS stops being honoured within it); the oldest entry
 * goes when the map is full. What was checked once holds for the token's lifetime: its signature,
 * algorithm, issuer, audience, and the claims (JWT_MAX_AGE bounds exp − iat, fixed per token).
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly capacity = 10_000,
    private readonly maxAgeMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(header: string): Principal | undefined {
    const entry = this.entries.get(header);
    if (!entry) return undefined;
    if (this.now() >= entry.until) {
      this.entries.delete(header);
      return undefined;
    }
    return entry.principal;
  }

  /** Remembers a verified token; `expSeconds` is its exp claim. */
  set(header: string, principal: Principal, expSeconds: number): void {
    const until = Math.min(expSeconds * 1000, this.now() + this.maxAgeMs);
    if (until <= this.now()) return;
    if (this.entries.size >= this.capacity && !this.entries.has(header)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(header, { principal: Object.freeze({ ...principal }), until });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The exp claim of a compact JWS, read without verifying it (for a token just verified). */
export function tokenExpiry(header: string): number | null {
  const token = header.slice(header.indexOf(' ') + 1);
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof claims.exp === 'number' ? claims.exp : null;
  } catch {
    return null;
  }
}

import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { UUID } from '../ids';

export interface StreamTicketClaims {
  orgId: string;
  userId: string;
  /** Unique per ticket: recorded when the ticket is used, so it opens one stream only. */
  nonce: string;
  expiresAt: Date;
}

/**
 * Tickets for EventSource clients, which cannot send an Authorization header (SPEC §4a): a
 * member's bearer token buys a ticket (POST /api/v1/events/tickets) that opens one event stream
 * within its lifetime (`GET /api/v1/events?ticket=…`). Signed with HMAC-SHA256 under a key derived
 * (HKDF) from the deployment's secret, so any API process can verify it; single use is enforced
 * where it is used (the nonce is recorded in the member's org). The token never goes in a URL.
 */
export class StreamTickets {
  private readonly key: Buffer;

  constructor(
    secret: Buffer,
    private readonly ttlSeconds: number,
  ) {
    this.key = Buffer.from(
      hkdfSync('sha256', secret, Buffer.alloc(0), 'resident-messaging/stream-tickets', 32),
    );
  }

  issue(orgId: string, userId: string, now = Date.now()): { ticket: string; expiresAt: Date } {
    const expires = Math.floor(now / 1000) + this.ttlSeconds;
    const payload = Buffer.from(
      JSON.stringify({ o: orgId, u: userId, n: randomBytes(16).toString('base64url'), x: expires }),
    ).toString('base64url');
    return { ticket: `${payload}.${this.sign(payload)}`, expiresAt: new Date(expires * 1000) };
  }

  /** The ticket's claims, or null when it is malformed, forged or expired. */
  verify(ticket: string, now = Date.now()): StreamTicketClaims | null {
    const [payload, signature, extra] = ticket.split('.');
    if (!payload || !signature || extra !== undefined || ticket.length > 512) return null;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let claims: { o?: unknown; u?: unknown; n?: unknown; x?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return null;
    }
    const { o, u, n, x } = claims;
    if (typeof o !== 'string' || !UUID.test(o) || typeof u !== 'string' || !UUID.test(u))
      return null;
    if (typeof n !== 'string' || typeof x !== 'number' || x * 1000 <= now) return null;
    return {
      orgId: o.toLowerCase(),
      userId: u.toLowerCase(),
      nonce: n,
      expiresAt: new Date(x * 1000),
    };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/** The provider token of the deployment's StreamTickets. */
export const STREAM_TICKETS = Symbol('STREAM_TICKETS');

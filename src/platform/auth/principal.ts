import type { MemberRole } from './roles';
import { UUID } from '../ids';

export type PrincipalRole = MemberRole | 'service';
export const PRINCIPAL_ROLES: readonly PrincipalRole[] = [
  'resident',
  'manager',
  'org_admin',
  'service',
];

/** Who the verified token says the caller is. Set on the request by the JWT guard. */
export interface Principal {
  userId: string;
  /** Null for service tokens: their org comes from the path. */
  orgId: string | null;
  role: PrincipalRole;
  name: string | null;
  /**
   * Set when the caller came with a stream ticket rather than a token: the ticket carries no
   * claims (nothing to provision or refresh), and opens one stream only.
   */
  ticket?: { nonce: string; expiresAt: Date };
}

export interface JwtClaims {
  sub?: unknown;
  org_id?: unknown;
  role?: unknown;
  name?: unknown;
  exp?: unknown;
  iat?: unknown;
}

/**
 * Whether a verified token lives longer than `maxAgeSeconds` (0: no limit): `exp − iat`, or
 * `exp − now` when the token carries no `iat`. A long-lived token is refused like a bad one, so a
 * token minted for years cannot outlive a membership change for that long.
 */
export function exceedsMaxAge(
  claims: JwtClaims,
  maxAgeSeconds: number,
  nowSeconds: number,
): boolean {
  if (!maxAgeSeconds || typeof claims.exp !== 'number') return false;
  const issued = typeof claims.iat === 'number' ? claims.iat : nowSeconds;
  return claims.exp - issued > maxAgeSeconds;
}

/** Validates the claims of an already verified token. Returns null when they are unusable. */
export function principalFromClaims(claims: JwtClaims): Principal | null {
  if (typeof claims.exp !== 'number') return null;
  if (typeof claims.sub !== 'string' || !UUID.test(claims.sub)) return null;
  if (typeof claims.role !== 'string' || !PRINCIPAL_ROLES.includes(claims.role as PrincipalRole))
    return null;
  const role = claims.role as PrincipalRole;
  let orgId: string | null = null;
  if (role !== 'service') {
    if (typeof claims.org_id !== 'string' || !UUID.test(claims.org_id)) return null;
    orgId = claims.org_id.toLowerCase();
  }
  let name: string | null = null;
  if (claims.name !== undefined && claims.name !== null) {
    if (typeof claims.name !== 'string') return null;
    name = displayNameFromClaim(claims.name);
  }
  return { userId: claims.sub.toLowerCase(), orgId, role, name };
}

// Control characters (tab and line breaks included), then runs of whitespace.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;

/**
 * Invisible formatting characters that let a name look like another one or reorder what follows
 * it on screen: zero-width spaces and joiners, the directional marks, embeddings, overrides and
 * isolates, and the byte order mark.
 */
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

/**
 * A name as the service stores it, from a token or the provisioning API: without invisible
 * formatting characters, in Unicode normalisation form C (so "é" typed two ways is one name).
 */
export function cleanDisplayName(raw: string): string {
  return raw.replace(INVISIBLE, '').normalize('NFC');
}

/**
 * A display name from an identity provider's `name` claim, made fit to show: control characters
 * and line breaks become spaces, invisible formatting characters go, whitespace runs collapse,
 * ill-formed UTF-16 is repaired, NFC, and it is cut to 200 code points (never inside a
 * character). Null when nothing is left.
 */
export function displayNameFromClaim(raw: string): string | null {
  const cleaned = cleanDisplayName(
    (raw as string & { toWellFormed(): string }).toWellFormed().replace(CONTROL, ' '),
  )
    .replace(/\s+/g, ' ')
    .trim();
  const name = Array.from(cleaned).slice(0, 200).join('').trim();
  return name || null;
}

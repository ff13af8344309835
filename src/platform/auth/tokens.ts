import jwt from 'jsonwebtoken';
import type { PrincipalRole } from './principal';

export interface TokenClaims {
  sub: string;
  orgId?: string;
  role: PrincipalRole;
  name?: string;
}

/** Mints an HS256 token as the identity provider would (development and tests only). */
export function mintToken(
  secret: string,
  claims: TokenClaims,
  options: { expiresInSeconds?: number; issuer?: string | null; audience?: string | null } = {},
): string {
  const payload: Record<string, unknown> = { sub: claims.sub, role: claims.role };
  if (claims.orgId) payload.org_id = claims.orgId;
  if (claims.name) payload.name = claims.name;
  return jwt.sign(payload, secret, {
    algorithm: 'HS256',
    expiresIn: options.expiresInSeconds ?? 30 * 24 * 3600,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  });
}

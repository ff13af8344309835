import { createSecretKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { exceedsMaxAge, principalFromClaims, type JwtClaims, type Principal } from './principal';

/**
 * Verifies the bearer token and nothing else (no database work: guards run before the tenant
 * transaction exists). HS256 with JWT_SECRET, or RS256/ES256 from the JWKS when JWT_JWKS_URL is
 * set: never both families, so an HMAC token cannot be forged with a public key.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly maxAgeSeconds: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const { jwtSecret, jwksUrl, issuer, audience } = config.auth;
    const options: StrategyOptionsWithoutRequest = jwksUrl
      ? {
          jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
          secretOrKeyProvider: passportJwtSecret({
            jwksUri: jwksUrl,
            cache: true,
            cacheMaxAge: 10 * 60 * 1000,
            rateLimit: true,
            jwksRequestsPerMinute: 10,
          }),
          algorithms: ['RS256', 'ES256'],
          ignoreExpiration: false,
          ...(issuer ? { issuer } : {}),
          ...(audience ? { audience } : {}),
        }
      : {
          jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
          // A KeyObject, made once: given a string, jsonwebtoken would try createPublicKey on every
          // verify (and fail) before falling back to a secret key, ~0.7 ms each.
          secretOrKey: createSecretKey(Buffer.from(jwtSecret ?? '', 'utf8')) as unknown as string,
          algorithms: ['HS256'],
          ignoreExpiration: false,
          ...(issuer ? { issuer } : {}),
          ...(audience ? { audience } : {}),
        };
    super(options);
    this.maxAgeSeconds = config.auth.maxAgeSeconds;
  }

  validate(claims: JwtClaims): Principal | false {
    if (exceedsMaxAge(claims, this.maxAgeSeconds, Math.floor(Date.now() / 1000))) return false;
    return principalFromClaims(claims) ?? false;
  }
}

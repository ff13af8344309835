import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../main';
import { mintToken } from '../platform/auth/tokens';
import { PRINCIPAL_ROLES, type PrincipalRole } from '../platform/auth/principal';

/** npm run token -- --org <uuid> --user <uuid> --role resident [--name "Ann"] [--days 30] */
function main(): void {
  const config = loadConfigOrExit();
  if (config.nodeEnv === 'production') {
    console.error('warning: minting a token with the production JWT_SECRET.');
  }
  const { values } = parseArgs({
    options: {
      org: { type: 'string' },
      user: { type: 'string' },
      role: { type: 'string', default: 'resident' },
      name: { type: 'string' },
      days: { type: 'string', default: '30' },
    },
  });
  const role = values.role as PrincipalRole;
  if (!values.user || !PRINCIPAL_ROLES.includes(role) || (role !== 'service' && !values.org)) {
    console.error(
      'usage: npm run token -- --org <uuid> --user <uuid> --role resident|manager|org_admin|service [--name "Ann"] [--days 30]',
    );
    process.exit(2);
  }
  if (!config.auth.jwtSecret) {
    console.error('JWT_JWKS_URL is set: tokens come from your identity provider.');
    process.exit(1);
  }
  process.stdout.write(
    mintToken(
      config.auth.jwtSecret,
      { sub: values.user, orgId: values.org, role, name: values.name },
      {
        expiresInSeconds: Number(values.days) * 86400,
        issuer: config.auth.issuer,
        audience: config.auth.audience,
      },
    ) + '\n',
  );
}

main();

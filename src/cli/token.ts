import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config/app-config';
import { mintToken } from '../platform/auth/tokens';
import { PRINCIPAL_ROLES, type PrincipalRole } from '../platform/auth/principal';
import { UUID } from '../platform/ids';

const USAGE = `usage: npm run -s token -- --org <uuid> --user <uuid> [--role resident|manager|org_admin|service] [--name "Ann"] [--days 30]

Mints a development token signed with JWT_SECRET. The first request with it provisions the
membership (org, user, role, name) just in time. A service token (--role service) takes no --org
and may call the provisioning API only.`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function parse(): { org?: string; user: string; role: PrincipalRole; name?: string; days: number } {
  let values;
  try {
    values = parseArgs({
      options: {
        org: { type: 'string' },
        user: { type: 'string' },
        role: { type: 'string', default: 'resident' },
        name: { type: 'string' },
        days: { type: 'string', default: '30' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const role = values.role as PrincipalRole;
  if (!PRINCIPAL_ROLES.includes(role)) fail(`--role must be one of ${PRINCIPAL_ROLES.join(', ')}.`);
  if (!values.user || !UUID.test(values.user)) fail('--user must be a UUID (the token sub).');
  if (role === 'service') {
    if (values.org) fail('a service token has no --org.');
  } else if (!values.org || !UUID.test(values.org)) {
    fail('--org must be a UUID.');
  }
  const days = Number(values.days);
  if (!Number.isFinite(days) || days <= 0) fail('--days must be a positive number.');
  return { org: values.org, user: values.user, role, name: values.name, days };
}

function main(): void {
  const args = parse();
  const config = loadConfigOrExit();
  if (config.nodeEnv === 'production') {
    console.error('warning: minting a token with the production JWT_SECRET.');
  }
  if (!config.auth.jwtSecret) {
    console.error('JWT_JWKS_URL is set: tokens come from your identity provider.');
    process.exit(1);
  }
  process.stdout.write(
    mintToken(
      config.auth.jwtSecret,
      { sub: args.user, orgId: args.org, role: args.role, name: args.name },
      {
        expiresInSeconds: Math.round(args.days * 86400),
        issuer: config.auth.issuer,
        audience: config.auth.audience,
      },
    ) + '\n',
  );
}

main();

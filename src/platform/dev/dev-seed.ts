import { Client } from 'pg';
import type { AppConfig } from '../../config/app-config';
import { mintToken } from '../auth/tokens';
import type { MemberRole } from '../auth/roles';

/** The demo org a newcomer gets on the first development start. Fixed ids: tokens survive restarts. */
export const DEMO_ORG_ID = '7e57a000-0000-4000-8000-000000000000';
export const DEMO_MEMBERS: { userId: string; displayName: string; role: MemberRole }[] = [
  { userId: '7e57a000-0000-4000-8000-0000000000a1', displayName: 'Alice Martin', role: 'resident' },
  { userId: '7e57a000-0000-4000-8000-0000000000b2', displayName: 'Bob Nguyen', role: 'resident' },
  { userId: '7e57a000-0000-4000-8000-0000000000c3', displayName: 'Carol Diaz', role: 'manager' },
  { userId: '7e57a000-0000-4000-8000-0000000000d4', displayName: 'Dave Okafor', role: 'org_admin' },
];

/** Creates the demo org and members (as the owner) when missing. Returns true when created now. */
export async function seedDemoOrg(ownerUrl: string): Promise<boolean> {
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query('begin');
    await client.query(`select set_config('app.org_id', $1, true)`, [DEMO_ORG_ID]);
    const created = await client.query('insert into orgs (id) values ($1) on conflict do nothing', [
      DEMO_ORG_ID,
    ]);
    for (const m of DEMO_MEMBERS) {
      await client.query('insert into users (id) values ($1) on conflict do nothing', [m.userId]);
      await client.query(
        `insert into memberships (org_id, user_id, display_name, role) values ($1, $2, $3, $4)
         on conflict do nothing`,
        [DEMO_ORG_ID, m.userId, m.displayName, m.role],
      );
    }
    await client.query('commit');
    return created.rowCount === 1;
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    await client.end();
  }
}

export function devTokenBanner(config: AppConfig, baseUrl: string): string {
  const secret = config.auth.jwtSecret;
  if (!secret) return 'JWT_JWKS_URL is set: get tokens from your identity provider.';
  const lines = [
    '',
    '──────────────────────────────────────────────────────────────────────────────',
    ` Resident Messaging is running (development). Demo org ${DEMO_ORG_ID}`,
    ...(config.webApp.enabled ? [` Web app:    ${baseUrl}/app    (pick a demo member)`] : []),
    ` Swagger UI: ${baseUrl}/docs   (click Authorize, paste a token below)`,
    ` Queues:     ${baseUrl}/admin/queues   (${config.operator.user} / ${config.operator.password})`,
    '',
  ];
  for (const m of DEMO_MEMBERS) {
    const token = mintToken(
      secret,
      {
        sub: m.userId,
        orgId: DEMO_ORG_ID,
        role: m.role,
        name: m.displayName,
      },
      { issuer: config.auth.issuer, audience: config.auth.audience },
    );
    lines.push(` ${m.displayName} (${m.role}, ${m.userId}):`, `   ${token}`, '');
  }
  lines.push(
    ` Try:  curl -H "Authorization: Bearer <token>" ${baseUrl}/api/v1/me`,
    ' More: npm run -s token -- --org <uuid> --user <uuid> --role resident --name "Ann"',
    '──────────────────────────────────────────────────────────────────────────────',
    '',
  );
  return lines.join('\n');
}

import { createServer, type Server } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { Client } from 'pg';
import { startTestApp, bearer, type TestApp } from '../support/test-app';
import { urlFor } from '../support/env';

describe('authentication (SPEC §3)', () => {
  let t: TestApp;
  const secret = () => t.config.auth.jwtSecret!;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const expect401 = async (authorization: string | undefined) => {
    const req = t.http().get('/api/v1/me');
    if (authorization !== undefined) req.set('authorization', authorization);
    const res = await req;
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 401, title: 'Unauthorized' });
    expect(res.body.type).toMatch(/\/unauthorized$/);
    // RFC 6750: the challenge names the scheme.
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="resident-messaging"/);
    return res;
  };

  const claims = () => ({ sub: randomUUID(), org_id: randomUUID(), role: 'resident', name: 'Ann' });

  it('refuses a missing token', () => expect401(undefined));
  it('refuses a malformed token', () => expect401('Bearer not.a.jwt'));
  it('refuses a non-bearer scheme', () =>
    expect401(`Basic ${Buffer.from('a:b').toString('base64')}`));
  it('refuses a token signed with another secret', () =>
    expect401(
      `Bearer ${jwt.sign(claims(), 'another-secret-another-secret-another', { expiresIn: 60 })}`,
    ));
  it('refuses an expired token and says so', async () => {
    const res = await expect401(
      `Bearer ${jwt.sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 10 }, secret())}`,
    );
    expect(res.body.detail).toMatch(/expired/);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });
  it('refuses a token that expired after it was accepted (a verified token is remembered only until its exp)', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = `Bearer ${jwt.sign({ ...claims(), exp }, secret())}`;
    const me = () => t.http().get('/api/v1/me').set('authorization', token);
    expect((await me()).status).toBe(200);
    expect((await me()).status).toBe(200);
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    const res = await expect401(token);
    expect(res.body.detail).toMatch(/expired/);
  });
  it('refuses a token without exp', () => expect401(`Bearer ${jwt.sign(claims(), secret())}`));
  it('refuses a token with a changed signature, after the genuine one was accepted', async () => {
    const token = jwt.sign({ ...claims(), exp: Math.floor(Date.now() / 1000) + 60 }, secret());
    expect((await t.http().get('/api/v1/me').set('authorization', `Bearer ${token}`)).status).toBe(
      200,
    );
    const [header, body, signature] = token.split('.');
    const flipped = signature[0] === 'A' ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    await expect401(`Bearer ${header}.${body}.${flipped}`);
    // The claims changed under the genuine signature.
    const other = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(body, 'base64url').toString()),
        role: 'org_admin',
      }),
    ).toString('base64url');
    await expect401(`Bearer ${header}.${other}.${signature}`);
  });
  it('refuses alg: none', () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ ...claims(), exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString('base64url');
    return expect401(`Bearer ${header}.${body}.`);
  });
  it('refuses claims that are not usable (sub not a uuid, unknown role, member without org)', async () => {
    for (const bad of [
      { ...claims(), sub: 'alice' },
      { ...claims(), role: 'superadmin' },
      { sub: randomUUID(), role: 'resident' },
    ]) {
      await expect401(`Bearer ${jwt.sign(bad, secret(), { expiresIn: 60 })}`);
    }
  });

  it('provisions the membership just in time from the claims, once under concurrent first requests', async () => {
    const orgId = randomUUID();
    const userId = randomUUID();
    const token = t.tokenFor({ sub: userId, orgId, role: 'manager', name: 'Mia Manager' });
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => t.http().get('/api/v1/me').set(bearer({ token }))),
    );
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        orgId,
        userId,
        role: 'manager',
        displayName: 'Mia Manager',
        active: true,
      });
    }
    const db = new Client({ connectionString: urlFor(t.database) });
    await db.connect();
    const { rows } = await db.query(
      'select count(*)::int as n from memberships where user_id = $1',
      [userId],
    );
    await db.end();
    expect(rows[0].n).toBe(1);
  });

  it('provisions and refreshes through a one-statement route (rm_api_enter) as through /me', async () => {
    const orgId = randomUUID();
    const userId = randomUUID();
    const claims = { sub: userId, orgId, role: 'resident' as const, name: 'First Name' };
    const unread = (token: string) =>
      t.http().get('/api/v1/messages/unread-count').set(bearer({ token }));
    const first = await unread(t.tokenFor(claims));
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ total: 0, threads: 0 });
    const me = async (token: string) =>
      (await t.http().get('/api/v1/me').set(bearer({ token })).expect(200)).body;
    expect(await me(t.tokenFor(claims))).toMatchObject({ displayName: 'First Name' });
    // The claims change: the next one-statement request applies them.
    const renamed = t.tokenFor({ ...claims, name: 'Second Name', role: 'manager' as const });
    expect((await unread(renamed)).status).toBe(200);
    const db = new Client({ connectionString: urlFor(t.database) });
    await db.connect();
    const { rows } = await db.query(
      'select display_name, role from memberships where org_id = $1 and user_id = $2',
      [orgId, userId],
    );
    expect(rows).toEqual([{ display_name: 'Second Name', role: 'manager' }]);
    // Deactivated: the same route refuses it, as a problem.
    await db.query('update memberships set active = false where org_id = $1 and user_id = $2', [
      orgId,
      userId,
    ]);
    await db.end();
    const refused = await unread(renamed);
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('refreshes name and role from the token when they change', async () => {
    const orgId = randomUUID();
    const userId = randomUUID();
    await t
      .http()
      .get('/api/v1/me')
      .set(bearer({ token: t.tokenFor({ sub: userId, orgId, role: 'resident', name: 'Old' }) }))
      .expect(200);
    const res = await t
      .http()
      .get('/api/v1/me')
      .set(
        bearer({ token: t.tokenFor({ sub: userId, orgId, role: 'org_admin', name: 'New Name' }) }),
      );
    expect(res.body).toMatchObject({ displayName: 'New Name', role: 'org_admin' });
  });

  it('keeps a name and role set by provisioning until the token’s own claims change', async () => {
    const orgId = randomUUID();
    const userId = randomUUID();
    const token = t.tokenFor({ sub: userId, orgId, role: 'resident', name: 'Ann' });
    await t.http().get('/api/v1/me').set(bearer({ token })).expect(200);
    await t
      .http()
      .put(`/api/v1/admin/orgs/${orgId}/members/${userId}`)
      .set('authorization', `Bearer ${t.serviceToken()}`)
      .send({ displayName: 'Ann Official', role: 'manager' })
      .expect(200);
    // The same token again: its claims have not changed, so they do not undo the provisioning.
    const same = await t.http().get('/api/v1/me').set(bearer({ token }));
    expect(same.body).toMatchObject({ displayName: 'Ann Official', role: 'manager' });
    // The identity provider renames her: that change is applied; the role claim did not change.
    const renamed = t.tokenFor({ sub: userId, orgId, role: 'resident', name: 'Ann Lee' });
    const after = await t
      .http()
      .get('/api/v1/me')
      .set(bearer({ token: renamed }));
    expect(after.body).toMatchObject({ displayName: 'Ann Lee', role: 'manager' });
  });

  it('keeps a provisioned member’s name when their first token carries another', async () => {
    const orgId = t.createOrg();
    const member = await t.createMember(orgId, { displayName: 'Front Desk' });
    const provisioned = await t
      .http()
      .put(`/api/v1/admin/orgs/${orgId}/members/${member.userId}`)
      .set('authorization', `Bearer ${t.serviceToken()}`)
      .send({ displayName: 'Front Desk', role: member.role });
    const token = t.tokenFor({ sub: member.userId, orgId, role: member.role, name: 'fd-42' });
    const res = await t.http().get('/api/v1/me').set(bearer({ token }));
    expect(res.body.displayName).toBe('Front Desk');
    // Recording the claims as seen is not a change of the membership.
    expect(res.body.updatedAt).toBe(provisioned.body.updatedAt);
  });

  it('makes a display name fit to show from a name claim with control characters', async () => {
    const orgId = randomUUID();
    const token = t.tokenFor({
      sub: randomUUID(),
      orgId,
      role: 'resident',
      name: 'Ann\u0007\nLee',
    });
    const res = await t.http().get('/api/v1/me').set(bearer({ token }));
    expect(res.body.displayName).toBe('Ann Lee');
  });

  it('refuses a provisioned display name on more than one line', async () => {
    const res = await t
      .http()
      .put(`/api/v1/admin/orgs/${t.createOrg()}/members/${randomUUID()}`)
      .set('authorization', `Bearer ${t.serviceToken()}`)
      .send({ displayName: 'Ann\nLee', role: 'resident' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        field: 'displayName',
        message: 'displayName must be one line, without tabs or line breaks',
      },
    ]);
  });

  it('keeps updatedAt when a settings change or a provisioning call changes nothing', async () => {
    const orgId = t.createOrg();
    const member = await t.createMember(orgId, { displayName: 'Same' });
    const before = (await t.http().get('/api/v1/me').set(bearer(member))).body;
    const patched = await t
      .http()
      .patch('/api/v1/me/settings')
      .set(bearer(member))
      .send({ readReceipts: true });
    expect(patched.body.updatedAt).toBe(before.updatedAt);
    const put = await t
      .http()
      .put(`/api/v1/admin/orgs/${orgId}/members/${member.userId}`)
      .set('authorization', `Bearer ${t.serviceToken()}`)
      .send({ displayName: 'Same', role: member.role });
    expect(put.status).toBe(200);
    expect(put.body.updatedAt).toBe(before.updatedAt);
    const changed = await t
      .http()
      .patch('/api/v1/me/settings')
      .set(bearer(member))
      .send({ visibility: 'hidden' });
    expect(changed.body.updatedAt > before.updatedAt).toBe(true);
  });

  it('answers 403 for a deactivated membership and reactivates on provisioning', async () => {
    const orgId = t.createOrg();
    const member = await t.createMember(orgId);
    await t.http().get('/api/v1/me').set(bearer(member)).expect(200);
    await t
      .http()
      .delete(`/api/v1/admin/orgs/${orgId}/members/${member.userId}`)
      .set('authorization', `Bearer ${t.serviceToken()}`)
      .expect(204);
    const refused = await t.http().get('/api/v1/me').set(bearer(member));
    expect(refused.status).toBe(403);
    expect(refused.body.type).toMatch(/\/membership-inactive$/);
    const again = await t
      .http()
      .put(`/api/v1/admin/orgs/${orgId}/members/${member.userId}`)
      .set('authorization', `Bearer ${t.serviceToken()}`)
      .send({ displayName: member.displayName, role: 'resident' });
    expect(again.status).toBe(200);
    expect(again.body.active).toBe(true);
    await t.http().get('/api/v1/me').set(bearer(member)).expect(200);
  });

  it('keeps members out of the provisioning API (403) and service tokens out of member routes (403)', async () => {
    const orgId = t.createOrg();
    const member = await t.createMember(orgId, { role: 'org_admin' });
    const res = await t
      .http()
      .put(`/api/v1/admin/orgs/${orgId}/members/${randomUUID()}`)
      .set(bearer(member))
      .send({ displayName: 'X', role: 'resident' });
    expect(res.status).toBe(403);
    expect(res.body.status).toBe(403);
    const svc = await t.http().get('/api/v1/me').set('authorization', `Bearer ${t.serviceToken()}`);
    expect(svc.status).toBe(403);
  });

  it('answers 404 when deactivating an unknown member', async () => {
    const res = await t
      .http()
      .delete(`/api/v1/admin/orgs/${t.createOrg()}/members/${randomUUID()}`)
      .set('authorization', `Bearer ${t.serviceToken()}`);
    expect(res.status).toBe(404);
  });
});

describe('authentication with a JWKS (RS256/ES256)', () => {
  let t: TestApp;
  let server: Server;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-key-1';

  beforeAll(async () => {
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    t = await startTestApp({
      JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      JWT_ISSUER: 'https://idp.test',
      JWT_AUDIENCE: 'resident-messaging',
    });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const sign = (options: jwt.SignOptions, key: jwt.Secret = privateKey) =>
    jwt.sign({ sub: randomUUID(), org_id: randomUUID(), role: 'resident', name: 'Rita' }, key, {
      expiresIn: 60,
      issuer: 'https://idp.test',
      audience: 'resident-messaging',
      ...options,
    });

  it('accepts an RS256 token from the key set', async () => {
    const res = await t
      .http()
      .get('/api/v1/me')
      .set('authorization', `Bearer ${sign({ algorithm: 'RS256', keyid: kid })}`);
    expect(res.status).toBe(200);
    expect(res.body.displayName).toBe('Rita');
  });

  it('refuses an HS256 token even when signed with the public key material', async () => {
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const forged = jwt.sign(
      {
        sub: randomUUID(),
        org_id: randomUUID(),
        role: 'resident',
        exp: Math.floor(Date.now() / 1000) + 60,
      },
      pem,
      { algorithm: 'HS256', keyid: kid },
    );
    const res = await t.http().get('/api/v1/me').set('authorization', `Bearer ${forged}`);
    expect(res.status).toBe(401);
  });

  it('checks issuer and audience', async () => {
    for (const options of [{ issuer: 'https://evil.test' }, { audience: 'someone-else' }]) {
      const res = await t
        .http()
        .get('/api/v1/me')
        .set('authorization', `Bearer ${sign({ algorithm: 'RS256', keyid: kid, ...options })}`);
      expect(res.status).toBe(401);
    }
  });

  it('refuses a token signed by a key that is not in the set', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const res = await t
      .http()
      .get('/api/v1/me')
      .set('authorization', `Bearer ${sign({ algorithm: 'RS256', keyid: kid }, other)}`);
    expect(res.status).toBe(401);
  });
});

describe('token lifetime limit (JWT_MAX_AGE)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ JWT_MAX_AGE: '1h' });
  });
  afterAll(() => t.close());

  const claims = () => ({ sub: randomUUID(), org_id: randomUUID(), role: 'resident' });
  const me = (token: string) => t.http().get('/api/v1/me').set('authorization', `Bearer ${token}`);
  const secret = () => t.config.auth.jwtSecret ?? '';

  it('accepts a token that lives at most JWT_MAX_AGE', async () => {
    expect((await me(jwt.sign(claims(), secret(), { expiresIn: 3600 }))).status).toBe(200);
  });

  it('refuses a token whose exp − iat exceeds it, even while it is fresh', async () => {
    expect((await me(jwt.sign(claims(), secret(), { expiresIn: 3601 }))).status).toBe(401);
    expect((await me(jwt.sign(claims(), secret(), { expiresIn: '30d' }))).status).toBe(401);
  });

  it('measures from now when the token carries no iat', async () => {
    const now = Math.floor(Date.now() / 1000);
    const long = jwt.sign({ ...claims(), exp: now + 7200 }, secret(), { noTimestamp: true });
    const short = jwt.sign({ ...claims(), exp: now + 600 }, secret(), { noTimestamp: true });
    expect((await me(long)).status).toBe(401);
    expect((await me(short)).status).toBe(200);
  });
});

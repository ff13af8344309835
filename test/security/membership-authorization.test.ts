import { randomUUID } from 'node:crypto';
import { API, expectProblem, ownerQuery } from '../support/factories';
import { startTestApp, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';

/**
 * SPEC §2 "Authorization": what a member may do comes from the membership as stored, never from
 * the token's role claim at request time. The webhook API is the org_admin surface.
 */
describe.each([
  ['just-in-time provisioning on', 'true'],
  ['just-in-time provisioning off', 'false'],
])('permissions come from the stored membership (%s)', (_label, jit) => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({
      ...UNTHROTTLED,
      AUTH_JIT_PROVISIONING: jit,
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
    });
    org = t.createOrg();
  });
  afterAll(() => t.close());

  const provision = (member: { userId: string }, role: string, displayName = 'Pat Admin') =>
    t
      .http()
      .put(`${API}/admin/orgs/${org}/members/${member.userId}`)
      .set('authorization', `Bearer ${t.serviceToken()}`)
      .send({ displayName, role });
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const createEndpoint = (token: string) =>
    t
      .http()
      .post(`${API}/webhooks/endpoints`)
      .set(as(token))
      .send({
        url: 'http://127.0.0.1:9/hook',
        events: ['message.created'],
        includeMessageBody: true,
      });
  const endpointCount = async () =>
    (await ownerQuery<{ n: number }>(t, 'select count(*)::int as n from webhook_endpoints'))[0].n;

  it('a demoted admin loses the webhook API at once, though their token still says org_admin', async () => {
    const admin: Member = await t.createMember(org, { role: 'org_admin' });
    const list = () => t.http().get(`${API}/webhooks/endpoints`).set(as(admin.token));
    expect((await list()).status).toBe(200);

    expect((await provision(admin, 'resident')).status).toBe(200);
    const me = await t.http().get(`${API}/me`).set(as(admin.token));
    expect(me.body).toMatchObject({ role: 'resident' });

    const before = await endpointCount();
    expectProblem(await list(), 403, 'forbidden');
    expectProblem(await createEndpoint(admin.token), 403, 'forbidden');
    expect(await endpointCount()).toBe(before);
    // The same token again does not undo the demotion (the claim did not change).
    expect((await t.http().get(`${API}/me`).set(as(admin.token))).body.role).toBe('resident');
  });

  it('a member provisioned as org_admin whose token says resident may use the webhook API', async () => {
    const userId = randomUUID();
    expect((await provision({ userId }, 'org_admin')).status).toBe(201);
    const token = t.tokenFor({ sub: userId, orgId: org, role: 'resident', name: 'Pat Admin' });

    expect((await t.http().get(`${API}/me`).set(as(token))).body.role).toBe('org_admin');
    expect((await t.http().get(`${API}/webhooks/endpoints`).set(as(token))).status).toBe(200);
    expect((await createEndpoint(token)).status).toBe(201);
  });

  it('an identity provider role change still propagates: a changed claim updates the stored role, in both directions', async () => {
    const member = await t.createMember(org, { role: 'resident' });
    const claims = { sub: member.userId, orgId: org, name: member.displayName };
    const residentToken = t.tokenFor({ ...claims, role: 'resident' });
    const adminToken = t.tokenFor({ ...claims, role: 'org_admin' });
    // The first token's claims are recorded as seen, then a changed claim is applied.
    expect((await t.http().get(`${API}/me`).set(as(residentToken))).body.role).toBe('resident');
    expect((await t.http().get(`${API}/webhooks/endpoints`).set(as(adminToken))).status).toBe(200);
    expect((await t.http().get(`${API}/me`).set(as(adminToken))).body.role).toBe('org_admin');

    // Demoted by the identity provider: the changed claim takes effect in the same request.
    expectProblem(
      await t.http().get(`${API}/webhooks/endpoints`).set(as(residentToken)),
      403,
      'forbidden',
    );
    expect((await t.http().get(`${API}/me`).set(as(residentToken))).body.role).toBe('resident');
  });
});

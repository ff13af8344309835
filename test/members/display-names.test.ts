import { randomUUID } from 'node:crypto';
import { API, expectProblem, recipients } from '../support/factories';
import { startTestApp, type TestApp, UNTHROTTLED } from '../support/test-app';

/**
 * Display names come from tokens and the provisioning API. Invisible formatting characters
 * (zero-width, bidirectional controls) are removed so one name cannot pose as another or reorder
 * what follows it on screen, and names are stored in NFC.
 */
describe('display names', () => {
  let t: TestApp;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp(UNTHROTTLED);
    org = t.createOrg();
  });
  afterAll(() => t.close());

  const provision = (displayName: string, userId = randomUUID()) =>
    t
      .http()
      .put(`${API}/admin/orgs/${org}/members/${userId}`)
      .set('authorization', `Bearer ${t.serviceToken()}`)
      .send({ displayName, role: 'resident' });

  it('provisioning strips zero-width and bidirectional controls and stores NFC', async () => {
    const zeroWidth = await provision('A\u200Bli\u200Dce\uFEFF Martin');
    expect(zeroWidth.status).toBe(201);
    expect(zeroWidth.body.displayName).toBe('Alice Martin');
    const bidi = await provision('\u202Egnissim\u202C \u2066Bob\u2069\u200F');
    expect(bidi.body.displayName).toBe('gnissim Bob');
    const decomposed = await provision('Rene\u0301e');
    expect(decomposed.body.displayName).toBe('Ren\u00E9e');
    expectProblem(await provision('\u200B\u200E\u2066'), 400, 'validation-failed');
  });

  it('token names are cleaned the same way', async () => {
    const userId = randomUUID();
    const token = t.tokenFor({
      sub: userId,
      orgId: org,
      role: 'resident',
      name: '\u2067Zoe\u2069\u200B Ro\u0308ssler',
    });
    const me = await t.http().get(`${API}/me`).set('authorization', `Bearer ${token}`);
    expect(me.status).toBe(200);
    expect(me.body.displayName).toBe('Zoe R\u00F6ssler');
  });

  it('the recipient search matches case- and accent-insensitively', async () => {
    const searcher = await t.createMember(org, { displayName: 'Searching Sam' });
    for (const name of ['Chloë Müller', 'ÉLODIE Dupré', 'Nandu Ñandú']) await provision(name);
    const found = async (q: string) =>
      ((await recipients(t, searcher, { q })).body.data as { displayName: string }[]).map(
        (m) => m.displayName,
      );
    expect(await found('chloe')).toEqual(['Chloë Müller']);
    expect(await found('MULLER')).toEqual(['Chloë Müller']);
    expect(await found('elodie')).toEqual(['ÉLODIE Dupré']);
    expect(await found('dupre')).toEqual(['ÉLODIE Dupré']);
    expect(await found('Ñandú')).toEqual(['Nandu Ñandú']);
    expect(await found('e\u0301lodie')).toEqual(['ÉLODIE Dupré']);
    expect(await found('%')).toEqual([]);
  });
});

import { randomUUID } from 'node:crypto';
import { startTestApp, type Member, type TestApp, UNTHROTTLED } from '../support/test-app';
import {
  deactivate,
  directory,
  expectProblem,
  recipients,
  summaryOf,
  updateSettings,
  type PageJson,
  type MemberSummaryJson,
} from '../support/factories';

describe('the recipient directory', () => {
  let t: TestApp;
  let resident: Member;
  let manager: Member;
  let admin: Member;
  let hidden: Member;
  let named: Record<string, Member>;

  beforeAll(async () => {
    t = await startTestApp(UNTHROTTLED);
    const org = t.createOrg();
    resident = await t.createMember(org, { displayName: 'Me Myself' });
    manager = await t.createMember(org, { role: 'manager', displayName: 'mona Manager' });
    admin = await t.createMember(org, { role: 'org_admin', displayName: 'Olga Admin' });
    hidden = await t.createMember(org, { displayName: 'Harry Hidden', visibility: 'hidden' });
    named = {};
    for (const name of ['bianca', 'Carl', 'anna Smith', 'Bernard', '100% Sure', 'snake_case']) {
      named[name] = await t.createMember(org, { displayName: name });
    }
    const gone = await t.createMember(org, { displayName: 'Gary Gone' });
    await deactivate(t, gone);
    await t.createMember(t.createOrg(), { displayName: 'Anna Elsewhere' });
  });
  afterAll(() => t.close());

  const names = async (viewer: Member, q?: string) => {
    const ids = await directory(t, viewer, q);
    const all = [resident, manager, admin, hidden, ...Object.values(named)];
    return ids.map((id) => all.find((m) => m.userId === id)?.displayName ?? `unknown ${id}`);
  };

  it('shows residents the active, visible members of their org but themselves, by name', async () => {
    expect(await names(resident)).toEqual([
      '100% Sure',
      'anna Smith',
      'Bernard',
      'bianca',
      'Carl',
      'mona Manager',
      'Olga Admin',
      'snake_case',
    ]);
    const res = await recipients(t, resident, { limit: 1 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: [summaryOf(named['100% Sure'])],
      nextCursor: expect.any(String),
    });
  });

  it('shows managers and org admins the hidden members too', async () => {
    expect(await names(manager)).toEqual([
      '100% Sure',
      'anna Smith',
      'Bernard',
      'bianca',
      'Carl',
      'Harry Hidden',
      'Me Myself',
      'Olga Admin',
      'snake_case',
    ]);
    expect(await names(admin)).toContain('Harry Hidden');
    expect(await names(admin)).not.toContain('Olga Admin');
    expect(await names(hidden)).not.toContain('Harry Hidden');
  });

  it('follows a member turning hidden and visible again', async () => {
    const carl = named.Carl;
    await updateSettings(t, carl, { visibility: 'hidden' });
    expect(await names(resident)).not.toContain('Carl');
    expect(await names(manager)).toContain('Carl');
    await updateSettings(t, carl, { visibility: 'visible' });
    expect(await names(resident)).toContain('Carl');
  });

  it('searches display names case-insensitively by substring, taking % and _ literally', async () => {
    expect(await names(resident, 'AN')).toEqual(['anna Smith', 'bianca', 'mona Manager']);
    expect(await names(resident, 'smith')).toEqual(['anna Smith']);
    expect(await names(resident, '%')).toEqual(['100% Sure']);
    expect(await names(resident, '_')).toEqual(['snake_case']);
    expect(await names(resident, 'harry')).toEqual([]);
    expect(await names(manager, 'harry')).toEqual(['Harry Hidden']);
    expect(await names(resident, 'Elsewhere')).toEqual([]);
    expect(await names(resident, 'zzz')).toEqual([]);
  });

  it('paginates without duplicates or gaps', async () => {
    const whole = await directory(t, manager);
    const walked: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await recipients(t, manager, cursor ? { limit: 4, cursor } : { limit: 4 });
      const page = res.body as PageJson<MemberSummaryJson>;
      sizes.push(page.data.length);
      walked.push(...page.data.map((m) => m.userId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(walked).toEqual(whole);
    expect(sizes).toEqual([4, 4, 1]);
    const searched = await recipients(t, resident, { q: 'a', limit: 2 });
    const next = await recipients(t, resident, {
      q: 'a',
      limit: 2,
      cursor: searched.body.nextCursor as string,
    });
    expect(
      [...searched.body.data, ...next.body.data].map((m: MemberSummaryJson) => m.displayName),
    ).toEqual(['anna Smith', 'Bernard', 'bianca', 'Carl']);
  });

  it('refuses bad queries with 400', async () => {
    const bad: Record<string, string | number>[] = [
      { limit: 0 },
      { limit: 101 },
      { limit: 'ten' },
      { cursor: '%%%' },
      { cursor: 'bm90IGpzb24' },
      { q: 'x'.repeat(101) },
      { q: 'a\u0000b' },
      { q: '\u0007' },
      // A well-formed cursor holding a NUL (never issued: PostgreSQL text cannot hold one).
      { cursor: Buffer.from(JSON.stringify(['\u0000', randomUUID()])).toString('base64url') },
    ];
    for (const query of bad) {
      const res = await recipients(t, resident, query);
      expect({ query, status: res.status, type: res.body.type as string }).toEqual({
        query,
        status: 400,
        type: expect.stringMatching(/\/validation-failed$/),
      });
    }
    expectProblem(await recipients(t, resident, { limit: 0 }), 400, 'validation-failed');
  });
});

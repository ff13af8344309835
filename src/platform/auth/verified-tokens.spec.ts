import { tokenExpiry, VerifiedTokens } from './verified-tokens';
import type { Principal } from './principal';

const alice: Principal = { userId: 'a', orgId: 'o', role: 'resident', name: 'Alice' };

describe('VerifiedTokens', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('returns the principal of a token until its exp, then forgets it', () => {
    const tokens = new VerifiedTokens(10, 60_000, clock);
    tokens.set('Bearer t1', alice, (now + 30_000) / 1000);
    expect(tokens.get('Bearer t1')).toEqual(alice);
    expect(tokens.get('Bearer t2')).toBeUndefined();
    now += 29_999;
    expect(tokens.get('Bearer t1')).toEqual(alice);
    now += 1;
    expect(tokens.get('Bearer t1')).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it('keeps an entry at most maxAgeMs, however far its exp', () => {
    const tokens = new VerifiedTokens(10, 60_000, clock);
    tokens.set('Bearer long', alice, (now + 3_600_000) / 1000);
    now += 59_999;
    expect(tokens.get('Bearer long')).toBeDefined();
    now += 1;
    expect(tokens.get('Bearer long')).toBeUndefined();
  });

  it('does not keep a token already expired', () => {
    const tokens = new VerifiedTokens(10, 60_000, clock);
    tokens.set('Bearer old', alice, now / 1000 - 1);
    expect(tokens.get('Bearer old')).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it('drops the oldest entry when full', () => {
    const tokens = new VerifiedTokens(2, 60_000, clock);
    const exp = (now + 30_000) / 1000;
    tokens.set('Bearer 1', alice, exp);
    tokens.set('Bearer 2', alice, exp);
    tokens.set('Bearer 3', alice, exp);
    expect(tokens.size).toBe(2);
    expect(tokens.get('Bearer 1')).toBeUndefined();
    expect(tokens.get('Bearer 2')).toBeDefined();
    expect(tokens.get('Bearer 3')).toBeDefined();
  });

  it('hands out a frozen copy: a caller cannot change what the next request gets', () => {
    const tokens = new VerifiedTokens(10, 60_000, clock);
    const principal = { ...alice };
    tokens.set('Bearer t', principal, (now + 30_000) / 1000);
    principal.name = 'Mallory';
    const got = tokens.get('Bearer t')!;
    expect(got.name).toBe('Alice');
    expect(Object.isFrozen(got)).toBe(true);
  });
});

describe('tokenExpiry', () => {
  const jws = (payload: object) =>
    `Bearer x.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

  it('reads the exp claim', () => {
    expect(tokenExpiry(jws({ sub: 's', exp: 1234 }))).toBe(1234);
  });

  it('gives null without a usable exp', () => {
    expect(tokenExpiry(jws({ sub: 's' }))).toBeNull();
    expect(tokenExpiry(jws({ exp: '1234' }))).toBeNull();
    expect(tokenExpiry('Bearer nodots')).toBeNull();
    expect(tokenExpiry('Bearer x.!!!.y')).toBeNull();
  });
});

import { bearerCheck, credentialsOf, OperatorAuth } from './operator-auth';

const basic = (credentials: string, scheme = 'Basic') =>
  `${scheme} ${Buffer.from(credentials).toString('base64')}`;

describe('operator basic auth', () => {
  it('accepts the scheme in any case', () => {
    const auth = new OperatorAuth({ user: 'op', password: 'secret-password' });
    for (const scheme of ['Basic', 'basic', 'BASIC', 'bAsIc']) {
      expect(auth.check(basic('op:secret-password', scheme), '10.0.0.1')).toEqual({ ok: true });
    }
  });

  it('refuses wrong, shorter, longer and malformed credentials alike', () => {
    const auth = new OperatorAuth({ user: 'op', password: 'secret-password', maxFailures: 100 });
    for (const header of [
      basic('op:secret-passwor'),
      basic('op:secret-password!'),
      basic('op:'),
      'Bearer abc',
      'Basic',
      'Basic !!!',
      undefined,
    ]) {
      expect(auth.check(header, '10.0.0.1')).toEqual({ ok: false, status: 401 });
    }
  });

  it('answers 429 with Retry-After once an address has failed too often, until its window ends', () => {
    let now = 1_000_000;
    const auth = new OperatorAuth({
      user: 'op',
      password: 'secret-password',
      maxFailures: 3,
      windowMs: 60_000,
      now: () => now,
    });
    for (let i = 0; i < 3; i++) expect(auth.check(basic('op:guess'), '10.0.0.9').ok).toBe(false);
    expect(auth.check(basic('op:secret-password'), '10.0.0.9')).toEqual({
      ok: false,
      status: 429,
      retryAfterSeconds: 60,
    });
    // Another address is not affected.
    expect(auth.check(basic('op:secret-password'), '10.0.0.10')).toEqual({ ok: true });
    now += 60_001;
    expect(auth.check(basic('op:secret-password'), '10.0.0.9')).toEqual({ ok: true });
  });

  it('reads the credentials of a Basic header', () => {
    expect(credentialsOf(basic('a:b:c'))).toBe('a:b:c');
    expect(credentialsOf('Digest x')).toBe('');
  });
});

describe('operator auth with a bearer token besides (metrics)', () => {
  const auth = () => new OperatorAuth({ user: 'op', password: 'secret-password', maxFailures: 2 });
  const token = bearerCheck('a-metrics-token-of-some-length');

  it('accepts the token (any case of the scheme) and the operator credentials', () => {
    const a = auth();
    for (const header of [
      'Bearer a-metrics-token-of-some-length',
      'bearer a-metrics-token-of-some-length',
      basic('op:secret-password'),
    ]) {
      expect(a.check(header, '10.0.0.1', token)).toEqual({ ok: true });
    }
  });

  it('refuses a wrong, shorter or longer token, and counts it as a failed attempt', () => {
    const a = auth();
    expect(a.check('Bearer a-metrics-token-of-some-lengt', '10.0.0.2', token)).toEqual({
      ok: false,
      status: 401,
    });
    expect(a.check('Bearer a-metrics-token-of-some-length!', '10.0.0.2', token).ok).toBe(false);
    expect(a.check('Bearer ', '10.0.0.2', token)).toMatchObject({ ok: false, status: 429 });
    // A correct token from a throttled address is refused too (no oracle while throttled).
    expect(a.check('Bearer a-metrics-token-of-some-length', '10.0.0.2', token)).toMatchObject({
      status: 429,
    });
  });
});

import {
  checkWebhookUrl,
  guardedLookup,
  isBlockedAddress,
  PUBLIC_URL_REQUIRED,
  type Resolver,
} from './ssrf';

const resolveTo =
  (...addresses: string[]): Resolver =>
  () =>
    Promise.resolve(
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );

describe('SSRF guard', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '64:ff9b::7f00:1',
    '224.0.0.1',
    // IPv4-translated (RFC 2765): ::ffff:0:a.b.c.d
    '::ffff:0:7f00:1',
    '::ffff:0:127.0.0.1',
    '::ffff:0:a00:1',
    '::ffff:0:0:0',
    // IPv4-compatible, NAT64 (local use), 6to4, Teredo, ORCHIDv2, documentation
    '::10.0.0.1',
    '64:ff9b:1::a00:1',
    '2002:7f00:1::',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '2001:20::1',
    '3fff::1',
  ])('blocks %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111'])('allows public %s', (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });

  const refused = async (url: string, resolver: Resolver = resolveTo('93.184.216.34')) =>
    (await checkWebhookUrl(url, { allowPrivate: false, resolver })).ok === false;

  it.each([
    'http://example.com/hook',
    'https://127.0.0.1/hook',
    'https://0x7f.1/hook',
    'https://2130706433/hook',
    'https://0177.0.0.1/hook',
    'https://127.1/hook',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[fd12::1]/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://100.100.100.100/',
    'https://localhost/hook',
    'https://intranet/hook',
    'https://user:pw@example.com/hook',
    'ftp://example.com/hook',
    'not a url',
  ])('refuses %s', async (url) => {
    expect(await refused(url)).toBe(true);
  });

  it.each([
    'https://[::ffff:0:7f00:1]/hook',
    'https://[::ffff:0:127.0.0.1]/hook',
    'https://[::ffff:0:a9fe:a9fe]/latest/meta-data',
  ])('refuses the IPv4-translated %s', async (url) => {
    expect(await refused(url)).toBe(true);
  });

  it('answers every refused URL with one message: nothing tells an internal name that resolves from one that does not', async () => {
    const failing: Resolver = () =>
      Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
    const reasons = new Set<string>();
    for (const [url, resolver] of [
      ['https://db.internal.example/hook', resolveTo('10.0.0.7')],
      ['https://nothing.internal.example/hook', failing],
      ['https://intranet/hook', resolveTo('93.184.216.34')],
      ['https://127.0.0.1/hook', resolveTo('93.184.216.34')],
      ['http://example.com/hook', resolveTo('93.184.216.34')],
      ['https://user:pw@example.com/hook', resolveTo('93.184.216.34')],
      ['https://example.com:0/hook', resolveTo('93.184.216.34')],
      ['not a url', resolveTo('93.184.216.34')],
    ] as const) {
      const check = await checkWebhookUrl(url, { allowPrivate: false, resolver });
      expect(check.ok).toBe(false);
      if (!check.ok) reasons.add(check.reason);
    }
    expect([...reasons]).toEqual([PUBLIC_URL_REQUIRED]);
  });

  it('at delivery, a name that does not resolve fails like one that resolves inside', async () => {
    const errorOf = (resolver: Resolver) =>
      new Promise<string>((resolve) =>
        guardedLookup(resolver, false)('x.internal.example', {}, (error) =>
          resolve((error?.message ?? '').replace('x.internal.example', '<host>')),
        ),
      );
    const failing: Resolver = () => Promise.reject(new Error('getaddrinfo ENOTFOUND'));
    expect(await errorOf(failing)).toBe(await errorOf(resolveTo('10.0.0.7')));
  });

  it('refuses a hostname that resolves to an internal address', async () => {
    expect(
      await refused('https://rebind.example/hook', resolveTo('93.184.216.34', '10.0.0.5')),
    ).toBe(true);
    expect(await refused('https://internal.example/hook', resolveTo('127.0.0.1'))).toBe(true);
  });

  it('accepts a public https URL', async () => {
    expect(await refused('https://hooks.example.com/in?x=1')).toBe(false);
  });

  it('allows http and private targets when WEBHOOKS_ALLOW_PRIVATE_URLS is on', async () => {
    const check = await checkWebhookUrl('http://127.0.0.1:8080/hook', { allowPrivate: true });
    expect(check.ok).toBe(true);
  });

  it.each([
    ['http:///path', 'url must name a host'],
    ['https:///hooks.example.com', 'url must name a host'],
    ['http://127.0.0.1:0/hook', 'url must not use port 0'],
    ['http://127.0.0.1:8080/hook#part', 'url must not contain a fragment (#…)'],
    ['ftp://127.0.0.1/hook', 'url must use https or http'],
  ])('refuses %s even with private URLs allowed', async (url, reason) => {
    expect(await checkWebhookUrl(url, { allowPrivate: true })).toEqual({ ok: false, reason });
  });
});

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where webhooks may not go: private, loopback, link-local, CGNAT, unique-local, multicast,
 * documentation and other special-purpose ranges, IPv4-mapped/translated IPv6. The WHATWG URL
 * parser already normalises odd IPv4 notations (0x7f.1, 2130706433, 0177.0.0.1) to dotted quads.
 */
// Two lists: Node checks IPv4 addresses against IPv6 rules through their mapped form, so one list
// holding ::ffff:0:0/96 would block every IPv4 address.
const blocked4 = new BlockList();
const blocked6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked4.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['::', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 32],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked6.addSubnet(net, prefix, 'ipv6');
}

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked4.check(address, 'ipv4');
  if (family === 6) return blocked6.check(address, 'ipv6');
  return true;
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** Registration-time check of an endpoint URL (delivery checks the resolved address again). */
export async function checkWebhookUrl(
  raw: string,
  options: { allowPrivate: boolean; resolver?: Resolver },
): Promise<UrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'url must be an absolute URL' };
  }
  if (raw.length > 2000) return { ok: false, reason: 'url must be at most 2000 characters' };
  if (url.protocol !== 'https:' && !(options.allowPrivate && url.protocol === 'http:')) {
    return {
      ok: false,
      reason: options.allowPrivate ? 'url must use https or http' : 'url must use https',
    };
  }
  // The URL parser would read "https:///path" as the host "path": require a host as written.
  if (!/^https?:\/\/[^/?#]/i.test(raw.trim())) return { ok: false, reason: 'url must name a host' };
  if (url.username || url.password)
    return { ok: false, reason: 'url must not contain credentials' };
  if (url.port === '0') return { ok: false, reason: 'url must not use port 0' };
  if (url.hash) return { ok: false, reason: 'url must not contain a fragment (#…)' };
  if (options.allowPrivate) return { ok: true, url };
  const host = hostOf(url);
  if (isIP(host)) {
    return isBlockedAddress(host)
      ? {
          ok: false,
          reason: 'url must not point to a private, loopback or otherwise internal address',
        }
      : { ok: true, url };
  }
  if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.')) {
    return {
      ok: false,
      reason: 'url must not point to a private, loopback or otherwise internal address',
    };
  }
  let addresses: LookupAddress[];
  try {
    addresses = await (options.resolver ?? systemResolver)(host);
  } catch {
    return { ok: false, reason: 'url host does not resolve' };
  }
  if (!addresses.length || addresses.some((a) => isBlockedAddress(a.address))) {
    return {
      ok: false,
      reason: 'url must not point to a private, loopback or otherwise internal address',
    };
  }
  return { ok: true, url };
}

/** The hostname without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http(s).request that resolves with `resolver` and refuses internal addresses:
 * the address checked is the address connected to, so DNS rebinding cannot slip past.
 */
export function guardedLookup(resolver: Resolver, allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolver(hostname).then(
      (addresses) => {
        const allowed = allowPrivate
          ? addresses
          : addresses.filter((a) => !isBlockedAddress(a.address));
        if (!allowed.length || allowed.length !== addresses.length) {
          const error = Object.assign(
            new Error(`refused to connect to an internal address for ${hostname}`),
            {
              code: 'EBLOCKEDADDRESS',
            },
          );
          callback(error, '', 0);
          return;
        }
        if (options?.all) callback(null, allowed);
        else callback(null, allowed[0].address, allowed[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where webhooks may not go: private, loopback, link-local, CGNAT, unique-local, multicast,
 * documentation and other special-purpose ranges, and every IPv6 form that embeds an IPv4 address
 * (mapped, translated, compatible, NAT64, 6to4, Teredo). The WHATWG URL parser already normalises
 * odd IPv4 notations (0x7f.1, 2130706433, 0177.0.0.1) to dotted quads.
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
  // Reserved by the IETF: unspecified, loopback, IPv4-compatible (::/96), IPv4-mapped
  // (::ffff:0:0/96) and IPv4-translated (::ffff:0:0:0/96) addresses all live here.
  ['::', 8],
  ['64:ff9b::', 96], // NAT64, well-known prefix
  ['64:ff9b:1::', 48], // NAT64, local use
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments (Teredo 2001::/32, ORCHID, benchmarking)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['3fff::', 20], // documentation
  ['5f00::', 16], // SRv6 segment identifiers
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
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

/**
 * The one answer for every URL refused while private URLs are not allowed. Distinct messages
 * (say "does not resolve" against "internal address") would let an org admin probe which internal
 * host names exist, so the rules are stated together instead.
 */
export const PUBLIC_URL_REQUIRED =
  'url must be an absolute https URL of a public host (no credentials, no fragment, not port 0) whose name resolves to public addresses only';

/**
 * Registration-time check of an endpoint URL (delivery checks the resolved address again). With
 * private URLs allowed nothing is resolved, so the answers may say exactly what is wrong.
 */
export async function checkWebhookUrl(
  raw: string,
  options: { allowPrivate: boolean; resolver?: Resolver },
): Promise<UrlCheck> {
  const refuse = (reason: string): UrlCheck => ({
    ok: false,
    reason: options.allowPrivate ? reason : PUBLIC_URL_REQUIRED,
  });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('url must be an absolute URL');
  }
  if (raw.length > 2000) return refuse('url must be at most 2000 characters');
  if (url.protocol !== 'https:' && !(options.allowPrivate && url.protocol === 'http:')) {
    return refuse('url must use https or http');
  }
  // The URL parser would read "https:///path" as the host "path": require a host as written.
  if (!/^https?:\/\/[^/?#]/i.test(raw.trim())) return refuse('url must name a host');
  if (url.username || url.password) return refuse('url must not contain credentials');
  if (url.port === '0') return refuse('url must not use port 0');
  if (url.hash) return refuse('url must not contain a fragment (#…)');
  if (options.allowPrivate) return { ok: true, url };
  const host = hostOf(url);
  if (isIP(host)) return isBlockedAddress(host) ? refuse('') : { ok: true, url };
  if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.')) {
    return refuse('');
  }
  let addresses: LookupAddress[];
  try {
    addresses = await (options.resolver ?? systemResolver)(host);
  } catch {
    return refuse('');
  }
  if (!addresses.length || addresses.some((a) => isBlockedAddress(a.address))) return refuse('');
  return { ok: true, url };
}

/** The hostname without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

function noPublicAddress(hostname: string): NodeJS.ErrnoException {
  return Object.assign(
    new Error(
      `refused: ${hostname} has no public address (it does not resolve, or resolves to an internal address)`,
    ),
    { code: 'EBLOCKEDADDRESS' },
  );
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
          callback(noPublicAddress(hostname), '', 0);
          return;
        }
        if (options?.all) callback(null, allowed);
        else callback(null, allowed[0].address, allowed[0].family);
      },
      // A name that does not resolve gets the same error as one that resolves inside: the
      // attempt log must not tell an admin which internal names exist.
      (error: NodeJS.ErrnoException) =>
        callback(allowPrivate ? error : noPublicAddress(hostname), '', 0),
    );
  };
}

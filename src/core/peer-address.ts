// Which IPv4 addresses nginx may be told to proxy to: replicas are reached on loopback (a port
// published on the host) or at their address on a Docker bridge network of ours, and Docker
// allocates bridge subnets from private ranges. Anything else (a public address, 0.0.0.0, a
// link-local one) is never a replica of ours, so the renderer, the membership and the runtime's
// network check all refuse it. The Lua balancer (src/render/lua/autoserve_balancer.lua,
// PEER_RANGES) holds the same list; test/e2e/nginx/lua-membership.test.ts checks both agree. Pure.

/** Loopback and the private-use ranges (RFC 1918). */
export const PEER_RANGES = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] as const;

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const CANONICAL_IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

/** A canonical dotted quad (no leading zeros, each octet 0..255) as a 32-bit unsigned number. */
export function ipv4ToNumber(ip: string): number | undefined {
  if (!CANONICAL_IPV4.test(ip)) return undefined;
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function parseCidr(cidr: string): { network: number; bits: number } | undefined {
  const [ip, bitsText] = cidr.split('/');
  const network = ipv4ToNumber(ip ?? '');
  const bits = Number(bitsText);
  if (network === undefined || !/^\d{1,2}$/.test(bitsText ?? '') || bits > 32) return undefined;
  return { network, bits };
}

function inRange(ip: number, range: { network: number; bits: number }): boolean {
  const size = 2 ** (32 - range.bits);
  return Math.floor(ip / size) === Math.floor(range.network / size);
}

const RANGES = PEER_RANGES.map((r) => parseCidr(r)!);

/** Whether `ip` is a canonical IPv4 address in a peer range (loopback or private). */
export function isPeerIpv4(ip: string): boolean {
  const n = ipv4ToNumber(ip);
  return n !== undefined && RANGES.some((r) => inRange(n, r));
}

/** Whether every address of the IPv4 subnet `cidr` ("172.18.0.0/16") lies in one peer range. */
export function isPeerSubnet(cidr: string): boolean {
  const subnet = parseCidr(cidr);
  if (!subnet) return false;
  const size = 2 ** (32 - subnet.bits);
  const first = Math.floor(subnet.network / size) * size; // host bits set ("172.31.0.0/15") still name the block
  return RANGES.some((r) => subnet.bits >= r.bits && inRange(first, r) && inRange(first + size - 1, r));
}

/** Whether the canonical IPv4 address `ip` lies in the subnet `cidr` (false when either is malformed). */
export function inSubnet(ip: string, cidr: string): boolean {
  const n = ipv4ToNumber(ip);
  const subnet = parseCidr(cidr);
  return n !== undefined && subnet !== undefined && inRange(n, subnet);
}

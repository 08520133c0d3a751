/**
 * Which network addresses an image URL may reach. Internal addresses (loopback, private,
 * link-local, carrier-grade NAT, multicast, reserved) are refused unless explicitly allowed, so
 * that a request cannot make the server read its own network (SSRF). Addresses are judged after
 * name resolution: a public-looking name can resolve to 127.0.0.1.
 */
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors.js';

/** [address, prefix, family, what it is]; the description goes into the refusal message. */
const INTERNAL_RANGES: readonly (readonly [string, number, 'ipv4' | 'ipv6', string])[] = [
  ['0.0.0.0', 8, 'ipv4', 'this-network'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
  // Translation prefixes carry an IPv4 address that could be internal.
  ['64:ff9b::', 96, 'ipv6', 'NAT64'],
  ['2002::', 16, 'ipv6', '6to4'],
];

export class AddressPolicy {
  private readonly internal: { list: BlockList; what: string }[];
  private readonly allowed = new BlockList();

  /** `allow`: CIDR ranges or single addresses that may be reached even though internal. */
  constructor(allow: readonly string[] = []) {
    this.internal = INTERNAL_RANGES.map(([address, prefix, family, what]) => {
      const list = new BlockList();
      list.addSubnet(address, prefix, family);
      return { list, what };
    });
    for (const entry of allow) addRange(this.allowed, entry);
  }

  /** Why `address` may not be reached, or undefined when it may. */
  refusal(address: string): string | undefined {
    const family = familyOf(address);
    if (!family) return `${address} is not an IP address`;
    if (this.allowed.check(address, family)) return undefined;
    const hit = this.internal.find((r) => r.list.check(address, family));
    return hit ? `${address} is a ${hit.what} address` : undefined;
  }
}

function familyOf(address: string): 'ipv4' | 'ipv6' | undefined {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

/** "10.0.0.0/8", "::1" or "127.0.0.1" into `list`; anything else is a ConfigError naming it. */
function addRange(list: BlockList, entry: string): void {
  const [address = '', prefixText] = entry.split('/');
  const family = familyOf(address);
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText)))
    throw new ConfigError(`allowed address "${entry}" must be an IP address or CIDR range (e.g. 10.1.0.0/16)`);
  list.addSubnet(address, prefix, family);
}

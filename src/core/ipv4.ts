// IPv4 arithmetic for subnets (overlay routes, test address plans). Pure.

/** The dotted quad as an unsigned 32-bit value. */
export function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
}

/** True when the address lies in the CIDR subnet. */
export function inSubnet(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return ((ipv4ToInt(address) & mask) >>> 0) === ((ipv4ToInt(base ?? '') & mask) >>> 0);
}

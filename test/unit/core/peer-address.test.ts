import { describe, expect, it } from 'vitest';
import { inSubnet, ipv4ToNumber, isPeerIpv4, isPeerSubnet } from '../../../src/core/peer-address.js';

describe('peer addresses: where nginx may proxy to', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.255.255', true],
    ['10.0.0.1', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.0.1', true],
    ['172.15.255.255', false],
    ['172.32.0.0', false],
    ['192.167.255.255', false],
    ['192.169.0.0', false],
    ['8.8.8.8', false],
    ['0.0.0.0', false],
    ['169.254.1.1', false],
    ['100.64.0.1', false],
    ['010.0.0.1', false], // not canonical: one address, one spelling
    ['172.16.0', false],
    ['172.16.0.1.2', false],
    ['256.1.1.1', false],
    ['', false],
  ])('%s -> %s', (ip, expected) => expect(isPeerIpv4(ip)).toBe(expected));

  it('reads canonical dotted quads only', () => {
    expect(ipv4ToNumber('1.2.3.4')).toBe(0x01020304);
    expect(ipv4ToNumber('255.255.255.255')).toBe(2 ** 32 - 1);
    expect(ipv4ToNumber('01.2.3.4')).toBeUndefined();
  });

  it.each([
    ['172.18.0.0/16', true],
    ['172.16.0.0/12', true],
    ['192.168.32.0/20', true],
    ['10.10.0.0/24', true],
    ['172.0.0.0/8', false], // wider than 172.16/12
    ['172.30.0.0/15', true],
    ['172.31.0.0/15', true], // host bits set: the network is 172.30/15, inside 172.16/12
    ['100.64.0.0/10', false],
    ['0.0.0.0/0', false],
    ['172.18.0.0/33', false],
    ['172.18.0.0', false],
  ])('subnet %s -> %s', (cidr, expected) => expect(isPeerSubnet(cidr)).toBe(expected));

  it('every address of a peer subnet is a peer address (sampled)', () => {
    for (const [cidr, first, last] of [['172.18.0.0/16', '172.18.0.0', '172.18.255.255'], ['192.168.48.0/20', '192.168.48.0', '192.168.63.255']] as const) {
      expect(isPeerSubnet(cidr)).toBe(true);
      expect(isPeerIpv4(first) && isPeerIpv4(last)).toBe(true);
    }
  });
});

describe('inSubnet', () => {
  it.each([
    ['10.192.1.7', '10.192.0.0/16', true],
    ['10.193.1.7', '10.192.0.0/16', false],
    ['172.18.0.2', '172.18.0.0/16', true],
    ['10.0.0.1', '0.0.0.0/0', true],
    ['10.0.0.1', '10.0.0.1/32', true],
    ['10.0.0.2', '10.0.0.1/32', false],
    ['010.0.0.1', '10.0.0.0/8', false], // not canonical
    ['10.0.0.1', '10.0.0.0/33', false], // not a subnet
  ])('%s in %s: %s', (ip, cidr, expected) => {
    expect(inSubnet(ip, cidr)).toBe(expected);
  });
});

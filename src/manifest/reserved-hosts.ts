// Hosts an app may not serve. nginx picks a server block by the Host header, so an app holding
// one of these would take requests meant for the controller itself (its config-id and
// stub_status checks, which stall every app's routing when they fail) or for every local client
// that names no host. Rejected at validation: an error on that app alone.

/** The Host the controller sends to its own nginx for internal checks. */
export const INTERNAL_HOST = 'autoserve-internal';

const RESERVED_NAMES = new Set([INTERNAL_HOST, 'localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);
const LOOPBACK_OR_ANY_IPV4 = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0)$/;

/** Why `host` is reserved, or undefined when an app may serve it. */
export function reservedHostReason(host: string): string | undefined {
  const name = host.toLowerCase();
  if (RESERVED_NAMES.has(name) || name.endsWith(`.${INTERNAL_HOST}`)) return `${JSON.stringify(host)} is reserved for AutoServe and local clients`;
  if (LOOPBACK_OR_ANY_IPV4.test(name)) return `${JSON.stringify(host)} is a loopback or wildcard address, reserved for AutoServe and local clients`;
  return undefined;
}

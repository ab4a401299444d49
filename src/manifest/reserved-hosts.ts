// Hosts an app may not serve: names and addresses that local clients use without meaning any app
// (`curl http://localhost:8080/` should get "unknown host", not whichever app took the name), and
// `autoserve-internal`, kept for the controller. Rejected at validation: an error on that app alone.
// The controller's own checks no longer depend on this: they are served on a control listener no
// app host reaches (docs/routing.md), so a reserved host that slips past validation harms nobody.

/** A name kept for AutoServe itself. */
const INTERNAL_HOST = 'autoserve-internal';

const RESERVED_NAMES = new Set([INTERNAL_HOST, 'localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);
const LOOPBACK_OR_ANY_IPV4 = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0)$/;

/** Why `host` is reserved, or undefined when an app may serve it. */
export function reservedHostReason(host: string): string | undefined {
  const name = host.toLowerCase();
  if (RESERVED_NAMES.has(name) || name.endsWith(`.${INTERNAL_HOST}`)) return `${JSON.stringify(host)} is reserved for AutoServe and local clients`;
  if (LOOPBACK_OR_ANY_IPV4.test(name)) return `${JSON.stringify(host)} is a loopback or wildcard address, reserved for AutoServe and local clients`;
  return undefined;
}

// An isolated handlebars instance whose helpers are the only way templates print values.
// Each helper re-validates (defence in depth: the view model already did) and formats.
import Handlebars from 'handlebars';
import {
  assertHostname,
  assertIpv4,
  assertNginxToken,
  assertNonNegativeInteger,
  assertPathPrefix,
  assertPort,
  nginxString,
} from './nginx-quote.js';

export type NginxHandlebars = typeof Handlebars;

/**
 * Helpers:
 * - `{{q v}}`        double-quoted nginx string (rejects `$ ; { }` and control characters)
 * - `{{token v}}`    bare app name (DNS label), e.g. in `upstream as_{{token app}}`
 * - `{{host v}}`     quoted hostname
 * - `{{path v}}`     quoted location prefix
 * - `{{int v}}`      non-negative integer
 * - `{{addr ip port}}` `ip:port` for listen/server directives
 */
export function createNginxHandlebars(): NginxHandlebars {
  const hbs = Handlebars.create();
  hbs.registerHelper('q', (value: unknown) => nginxString(value));
  hbs.registerHelper('token', (value: unknown) => assertNginxToken(value));
  hbs.registerHelper('host', (value: unknown) => nginxString(assertHostname(value)));
  hbs.registerHelper('path', (value: unknown) => nginxString(assertPathPrefix(value)));
  hbs.registerHelper('int', (value: unknown) => String(assertNonNegativeInteger(value)));
  hbs.registerHelper('addr', (ip: unknown, port: unknown) => `${assertIpv4(ip)}:${assertPort(port)}`);
  return hbs;
}

/** Names of the helpers above; a unit test checks that templates print nothing except through them. */
export const PRINT_HELPERS = ['q', 'token', 'host', 'path', 'int', 'addr'] as const;

// Where `valueFrom` values come from: only what the operator opened to apps on purpose. Whoever
// can push a manifest must not be able to copy the controller's auth token, git credentials or
// cloud keys into a container they control, so a manifest reads
//   - a controller environment variable only if its name is on the open list (--open-env: names,
//     or prefixes ending in "*"), and never one of AutoServe's own settings (AUTOSERVE_*);
//   - a secret only from the secrets directory (--secrets-dir), one file per secret, as Docker
//     (/run/secrets) and Kubernetes mount them; the file must resolve inside that directory.
// A refusal says why and never contains a value.

import { createHmac } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { SECRET_NAME_PATTERN } from '../manifest/schema.js';

/** What a manifest may name: a controller variable or a secret file. */
export type ValueRef = { env: string } | { secret: string };

export type Lookup = { value: string } | { refused: string };

export interface ValueSource {
  lookup(ref: ValueRef): Lookup;
  /**
   * What the revision hash takes in place of an opened value: a keyed hash (HMAC-SHA256), so the
   * revision, which every status reader sees, cannot be used to guess a weak secret offline.
   */
  fingerprint(value: string): string;
}

export interface ValueSourceOptions {
  /** The controller's environment. */
  env: NodeJS.ProcessEnv;
  /** Variable names apps may read; an entry ending in "*" opens every name with that prefix. */
  openEnv: string[];
  /** Directory of secret files (one per secret, the file name is the secret's name). */
  secretsDir?: string;
  /** The key of `fingerprint` (fingerprint-key.ts): the same for a controller and its `plan`. */
  fingerprintKey: Uint8Array;
}

/** AutoServe's own settings (token, git credentials, ...) are never opened, whatever the list says. */
export const CONTROLLER_ENV_PREFIX = 'AUTOSERVE_';
/** A secret file larger than this is refused (an env value is meant to be small). */
export const MAX_SECRET_BYTES = 64 * 1024;

export function openValueSource(options: ValueSourceOptions): ValueSource {
  const exact = new Set(options.openEnv.filter((e) => !e.endsWith('*')));
  const prefixes = options.openEnv.filter((e) => e.endsWith('*')).map((e) => e.slice(0, -1));
  const isOpen = (name: string) => exact.has(name) || prefixes.some((p) => name.startsWith(p));

  return {
    lookup(ref) {
      if ('env' in ref) {
        const name = ref.env;
        if (name.startsWith(CONTROLLER_ENV_PREFIX)) return { refused: `controller variable ${name} is one of AutoServe's own settings and is never given to apps` };
        if (!isOpen(name)) return { refused: `controller variable ${name} is not opened to apps (the operator opens variables with --open-env or AUTOSERVE_OPEN_ENV)` };
        const value = options.env[name];
        return value === undefined ? { refused: `controller variable ${name} is opened to apps but not set` } : { value };
      }
      return readSecret(options.secretsDir, ref.secret);
    },
    fingerprint: (value) => `hmac-sha256:${createHmac('sha256', options.fingerprintKey).update(value).digest('hex')}`,
  };
}

function readSecret(dir: string | undefined, name: string): Lookup {
  if (dir === undefined) return { refused: `secret ${name}: no secrets directory is opened to apps (the operator sets --secrets-dir or AUTOSERVE_SECRETS_DIR)` };
  if (!new RegExp(SECRET_NAME_PATTERN).test(name)) return { refused: `secret ${JSON.stringify(name)} is not a plain file name` };
  try {
    const root = realpathSync(dir);
    // Kubernetes mounts secrets as symlinks into a hidden directory; what counts is where they end.
    const file = realpathSync(path.join(root, name));
    if (path.dirname(file) !== root && !file.startsWith(`${root}${path.sep}`)) return { refused: `secret ${name} points outside the secrets directory` };
    const stats = statSync(file);
    if (!stats.isFile()) return { refused: `secret ${name} is not a regular file` };
    if (stats.size > MAX_SECRET_BYTES) return { refused: `secret ${name} is larger than ${MAX_SECRET_BYTES} bytes` };
    const value = readFileSync(file, 'utf8');
    // No process environment can carry a NUL; runc refuses it by quoting the whole entry in its error.
    if (value.includes('\0')) return { refused: `secret ${name} holds a NUL byte, which no environment variable can carry` };
    return { value };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { refused: code === 'ENOENT' ? `secret ${name} does not exist in the secrets directory` : `secret ${name} cannot be read (${code ?? 'error'})` };
  }
}

/** Parses an --open-env list: names or prefixes ending in "*", separated by commas or spaces. */
export function parseOpenEnv(text: string | undefined): string[] {
  if (!text) return [];
  const entries = text.split(/[\s,]+/).filter((e) => e !== '');
  for (const entry of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*\*?$|^\*$/.test(entry)) throw new Error(`--open-env: ${JSON.stringify(entry)} is not a variable name or a prefix ending in *`);
  }
  return entries;
}

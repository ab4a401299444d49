// How the daemon and the CLI take their secrets (the API token, git credentials) without putting
// them on a command line, where `ps` shows them to every local user: from a file (0600, like a
// mounted secret) or from the environment. One variable name per secret, the same for every verb.
import { readFileSync, statSync } from 'node:fs';

/** The bearer token of the HTTP endpoint: read by `autoserve run` and by every CLI verb. */
export const AUTH_TOKEN_VARIABLE = 'AUTOSERVE_AUTH_TOKEN';
export const AUTH_TOKEN_FILE_VARIABLE = 'AUTOSERVE_AUTH_TOKEN_FILE';
/** Git credentials of the daemon (git mode, https remotes). */
export const GIT_USERNAME_VARIABLE = 'AUTOSERVE_GIT_USERNAME';
export const GIT_PASSWORD_VARIABLE = 'AUTOSERVE_GIT_PASSWORD';
export const GIT_PASSWORD_FILE_VARIABLE = 'AUTOSERVE_GIT_PASSWORD_FILE';

const MAX_SECRET_FILE_BYTES = 64 * 1024;

export interface SecretInput {
  /** From a flag given on the command line (works, but `ps` shows it). */
  value?: string;
  /** A file holding it (a trailing newline is ignored). */
  file?: string;
  /** Variable names: one holding the value, one naming a file. */
  variable: string;
  fileVariable?: string;
}

/**
 * The secret from, in order: the file flag, the value flag, the file variable, the variable.
 * Undefined when none is given. Throws when a named file cannot be read or is empty.
 * `warn` hears about a value given on the command line.
 */
export function readSecretInput(input: SecretInput, env: NodeJS.ProcessEnv, warn: (message: string) => void = () => {}): string | undefined {
  if (input.file !== undefined) return readSecretFile(input.file);
  if (input.value !== undefined) {
    warn(`a secret given on the command line is visible to every local user in the process list; use a file or ${input.variable}`);
    return nonEmpty(input.value, 'the command-line value');
  }
  const file = input.fileVariable ? env[input.fileVariable] : undefined;
  if (file) return readSecretFile(file);
  const value = env[input.variable];
  return value === undefined || value === '' ? undefined : value;
}

function readSecretFile(file: string): string {
  const stats = statSync(file);
  if (!stats.isFile()) throw new Error(`${file} is not a regular file`);
  if (stats.size > MAX_SECRET_FILE_BYTES) throw new Error(`${file} is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
  return nonEmpty(readFileSync(file, 'utf8').replace(/\r?\n$/, ''), file);
}

function nonEmpty(value: string, from: string): string {
  if (value === '') throw new Error(`${from} is empty`);
  return value;
}

/**
 * Removes AutoServe's own secrets from this process's environment once read, so that no child
 * (git, nginx, a hook) inherits them.
 */
export function forgetSecretVariables(env: NodeJS.ProcessEnv): void {
  for (const name of [AUTH_TOKEN_VARIABLE, AUTH_TOKEN_FILE_VARIABLE, GIT_USERNAME_VARIABLE, GIT_PASSWORD_VARIABLE, GIT_PASSWORD_FILE_VARIABLE]) {
    delete env[name];
  }
}

// Git credentials that never reach a command line: `ps` shows every process's argv to every local
// user, so a token inside `--git https://user:token@host/repo` (the daemon's argv, and git's when
// the URL is passed on) is readable by anyone on the machine. Credentials are taken out of the URL
// and handed to git by a credential helper that reads them from the environment of that one git
// process (readable only by its own user and root).

/** Username and password (or token) for an https remote. */
export interface GitCredentials {
  username: string;
  password: string;
}

/** Variables the helper reads; set only in the environment of the git process that needs them. */
const USERNAME_VARIABLE = 'AUTOSERVE_GIT_HELPER_USERNAME';
const PASSWORD_VARIABLE = 'AUTOSERVE_GIT_HELPER_PASSWORD';

/** Username sent with a password given without one (hosts that take a token ignore it). */
export const DEFAULT_GIT_USERNAME = 'git';

/** The URL without `user:password@`, and the credentials it held (percent-decoded), if any. */
export function splitUrlCredentials(url: string): { url: string; credentials?: GitCredentials } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url }; // scp-like ssh (git@host:repo) or a path: nothing to split
  }
  if (!/^https?:$/.test(parsed.protocol) || (parsed.username === '' && parsed.password === '')) return { url };
  const credentials = {
    username: decodeURIComponent(parsed.username) || DEFAULT_GIT_USERNAME,
    password: decodeURIComponent(parsed.password),
  };
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), credentials };
}

/**
 * The `-c` options (placed before git's subcommand) and the environment that make git take
 * `credentials` from a helper. The helper list is reset first, so no configured helper (such as
 * `store`) is asked for, or asked to save, these credentials.
 */
export function credentialHelper(credentials: GitCredentials): { args: string[]; env: Record<string, string> } {
  const helper = `!f() { test "$1" = get || exit 0; printf 'username=%s\\npassword=%s\\n' "$${USERNAME_VARIABLE}" "$${PASSWORD_VARIABLE}"; }; f`;
  return {
    args: ['-c', 'credential.helper=', '-c', `credential.helper=${helper}`],
    env: { [USERNAME_VARIABLE]: credentials.username, [PASSWORD_VARIABLE]: credentials.password },
  };
}

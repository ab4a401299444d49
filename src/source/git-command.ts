// Runs git for the git source: never interactive, always bounded, errors sorted into kinds.
//
// git runs with the daemon's own environment, so the user's credential helpers, ~/.ssh/config,
// GIT_SSH_COMMAND and ~/.gitconfig apply unchanged. Three things make it safe to run unattended:
// GIT_TERMINAL_PROMPT=0 (no username/password prompt), a new session without a controlling
// terminal (`detached`), so ssh cannot ask for a passphrase or a host-key confirmation either and
// fails at once, and a timeout after which the whole process group (git and its ssh) is killed.
// Every call is bounded: there is no way to call runGit without a timeout.

import { execa } from 'execa';

/** Default bound of one git call; fetches of large repositories may need more (GitSourceOptions.timeouts). */
export const DEFAULT_GIT_TIMEOUT_MS = 60_000;
const MAX_STDERR_IN_MESSAGE = 500;

/** What went wrong, as the SourceFailed condition's reason suffix and the event's wording. */
export type GitErrorKind = 'auth' | 'missing-branch' | 'fetch' | 'checkout' | 'timeout' | 'load';

/** A failed git call (or a failed step around one), with a stable kind and the underlying cause. */
export class GitSourceError extends Error {
  readonly code = 'GIT_SOURCE_ERROR';
  constructor(
    readonly kind: GitErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GitSourceError';
  }
}

export interface GitRunOptions {
  cwd?: string;
  timeoutMs?: number;
  /** Extra environment on top of the inherited one (e.g. GIT_INDEX_FILE). */
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Exit codes that are answers, not failures (e.g. 2 for `ls-remote --exit-code`). */
  okExitCodes?: number[];
}

export interface GitRunResult {
  stdout: string;
  exitCode: number;
}

/**
 * Runs `git args` and returns its stdout. Throws GitSourceError: kind 'timeout' when the bound is
 * hit, otherwise `failKind` unless stderr shows an authentication problem ('auth').
 */
export async function runGit(args: string[], failKind: GitErrorKind, options: GitRunOptions = {}): Promise<GitRunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
  const command = `git ${args[0] ?? ''}`;
  if (options.signal?.aborted) throw new GitSourceError(failKind, `${command} was cancelled`);
  const subprocess = execa('git', args, {
    cwd: options.cwd,
    env: { ...gitEnvironment(), ...options.env },
    extendEnv: false, // gitEnvironment() is the whole environment: what it leaves out stays out
    stdin: 'ignore',
    detached: true,
    reject: false,
    stripFinalNewline: true,
  });
  // The timeout and the cancel kill git's whole process group: killing git alone would leave its
  // ssh (or a hook, a credential helper) holding the output pipes open, and the call would not end.
  let timedOut = false;
  let cancelled = false;
  const killGroup = () => {
    if (subprocess.pid === undefined) return;
    try {
      process.kill(-subprocess.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  const onAbort = () => {
    cancelled = true;
    killGroup();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let result;
  try {
    result = await subprocess;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  const exitCode = result.exitCode ?? -1;
  if (timedOut) throw new GitSourceError('timeout', `${command} did not finish within ${timeoutMs} ms`, { cause: result });
  if (cancelled) throw new GitSourceError(failKind, `${command} was cancelled`, { cause: result });
  if (!result.failed || (result.exitCode !== undefined && (options.okExitCodes ?? []).includes(exitCode))) {
    return { stdout: String(result.stdout), exitCode };
  }
  const stderr = String(result.stderr ?? '').trim() || (result.shortMessage ?? 'unknown error');
  const kind = looksLikeAuthFailure(stderr) ? 'auth' : failKind;
  throw new GitSourceError(kind, `${command} failed: ${redactUrls(tail(stderr))}`, { cause: result });
}

/**
 * Variables that point git at a repository (what `git rev-parse --local-env-vars` lists, less the
 * config ones). Inherited from a parent git (a hook, `git bisect run`), they would make every
 * command act on that repository instead of the checkout it runs in.
 */
const REPOSITORY_VARIABLES = [
  'GIT_DIR', 'GIT_WORK_TREE', 'GIT_IMPLICIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR', 'GIT_PREFIX', 'GIT_SHALLOW_FILE', 'GIT_GRAFT_FILE',
  'GIT_INTERNAL_SUPER_PREFIX', 'GIT_NO_REPLACE_OBJECTS', 'GIT_REPLACE_REF_BASE',
];

/** `env` without the variables that point git at another repository. */
export function withoutRepositoryVariables(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const name of REPOSITORY_VARIABLES) delete out[name];
  return out;
}

/** The inherited environment, made non-interactive and with English, parseable messages. */
export function gitEnvironment(): Record<string, string | undefined> {
  return {
    ...withoutRepositoryVariables(process.env),
    GIT_TERMINAL_PROMPT: '0',
    GCM_INTERACTIVE: 'never', // Git Credential Manager
    LC_ALL: 'C',
    LANGUAGE: 'C',
  };
}

const AUTH_PATTERNS = [
  /authentication failed/i,
  /permission denied/i,
  /could not read (username|password)/i,
  /terminal prompts disabled/i,
  /host key verification failed/i,
  /invalid username or password/i,
  /\b(401|403)\b/,
];

export function looksLikeAuthFailure(stderr: string): boolean {
  return AUTH_PATTERNS.some((pattern) => pattern.test(stderr));
}

/** Drops `user:password@` from URLs, so a token in the URL never lands in an event or a log. */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

function tail(text: string): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' | ');
  return oneLine.length > MAX_STDERR_IN_MESSAGE ? `…${oneLine.slice(-MAX_STDERR_IN_MESSAGE)}` : oneLine;
}

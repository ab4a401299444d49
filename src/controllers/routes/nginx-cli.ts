// Runs the nginx binary with a timeout and returns what it said; never throws for a non-zero exit.
import { execa } from 'execa';

export const DEFAULT_NGINX_TIMEOUT_MS = 15_000;

export interface NginxRunResult {
  ok: boolean;
  stderr: string;
}

export async function runNginx(bin: string, args: string[], timeoutMs = DEFAULT_NGINX_TIMEOUT_MS): Promise<NginxRunResult> {
  // stdout ignored: a daemonizing master must not keep a pipe of ours open.
  const result = await execa(bin, args, { reject: false, timeout: timeoutMs, stdin: 'ignore', stdout: 'ignore' });
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';
  if (result.timedOut) return { ok: false, stderr: `${stderr}\nnginx ${args.join(' ')} timed out after ${timeoutMs} ms`.trim() };
  if (result.failed && result.exitCode === undefined) return { ok: false, stderr: result.message ?? String(result) };
  return { ok: result.exitCode === 0, stderr };
}

/** What nginx printed on stdout (e.g. `nginx -T`), or undefined when it failed. */
export async function runNginxStdout(bin: string, args: string[], timeoutMs = DEFAULT_NGINX_TIMEOUT_MS): Promise<string | undefined> {
  const result = await execa(bin, args, { reject: false, timeout: timeoutMs, stdin: 'ignore', maxBuffer: 64 * 1024 * 1024 });
  return result.exitCode === 0 && typeof result.stdout === 'string' ? result.stdout : undefined;
}

/** The lines of `nginx -t` output that say what is wrong ([emerg]/[alert]/[crit]), or all of it. */
export function nginxErrorSummary(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => /\[(emerg|alert|crit|error)\]/.test(l));
  return (lines.length > 0 ? lines : [stderr.trim()]).join('\n').replace(/^\S+ \S+ \[(\w+)\] \d+#\d+: /gm, '[$1] ');
}

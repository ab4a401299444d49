// `autoserve rollout status NAME [--timeout 10m] [--revision COMMIT]`: waits until the app's current
// revision runs on every replica and is ready (like `kubectl rollout status`), printing progress as
// it changes. Resolves when done; throws (exit 1) with the reason when the rollout halts or time runs
// out, so a CI job can wait for a push to be live.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { parseDuration } from '../../daemon/options.js';
import { rolloutProgress } from '../../store/rollout-progress.js';
import type { AppStatus } from '../../store/status-model.js';
import { clientFrom, withServerOptions, type ApiClient } from '../api-client.js';
import { CliError } from '../cli-error.js';
import { printToStdout, type Print } from '../output.js';

export const DEFAULT_ROLLOUT_TIMEOUT = '10m';
const DEFAULT_INTERVAL_MS = 1_000;

export interface RolloutStatusOptions {
  timeoutMs: number;
  /** Git mode: wait until the app is at this source commit (a prefix is enough). */
  commit?: string;
  intervalMs?: number;
  now?: () => number;
}

export async function rolloutStatus(client: ApiClient, name: string, options: RolloutStatusOptions, print: Print): Promise<void> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  let last = '';
  const say = (message: string) => {
    if (message !== last) print(message);
    last = message;
  };
  for (;;) {
    const waiting = await readProgress(client, name, options.commit);
    if (waiting.state === 'complete') return say(`app "${name}" ${waiting.message}`);
    if (waiting.state === 'failed') throw new CliError('RolloutFailed', `rollout of "${name}" halted: ${waiting.message}`);
    say(`Waiting for rollout of "${name}" to finish: ${waiting.message}`);
    const left = deadline - now();
    if (left <= 0) throw new CliError('Timeout', `timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for "${name}": ${waiting.message}`);
    await sleep(Math.min(options.intervalMs ?? DEFAULT_INTERVAL_MS, left));
  }
}

/** The app's progress; a missing app or an unreachable controller is something to wait for. */
async function readProgress(client: ApiClient, name: string, commit: string | undefined) {
  try {
    return rolloutProgress(await client.get<AppStatus>(`/apps/${encodeURIComponent(name)}`), commit);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    // A new app appears once the controller loads its manifest; a restarting controller comes back.
    if (err.code === 'ApiError' && /no app named/.test(err.message)) return { state: 'progressing' as const, message: 'the app is not known to the controller yet' };
    if (err.code === 'ControllerUnreachable') return { state: 'progressing' as const, message: err.message };
    throw err;
  }
}

export function registerRollout(program: Command): void {
  const rollout = program.command('rollout').description('follow rollouts of apps');
  withServerOptions(
    rollout
      .command('status')
      .description("wait until an app's current revision runs on every replica and is ready; exit 1 when it halts or times out")
      .argument('<name>', 'the app')
      .option('--timeout <duration>', 'give up after this long (e.g. 90s, 10m)', DEFAULT_ROLLOUT_TIMEOUT)
      .option('--revision <commit>', 'git mode: wait until the app is at this source commit (a prefix is enough)'),
  ).action(async (name: string, flags: { timeout: string; revision?: string; server?: string; token?: string }) => {
    let timeoutMs: number;
    try {
      timeoutMs = parseDuration(flags.timeout);
    } catch (err) {
      throw new CliError('BadArgument', `--timeout: ${err instanceof Error ? err.message : String(err)}`);
    }
    await rolloutStatus(clientFrom(flags), name, { timeoutMs, commit: flags.revision }, printToStdout);
  });
}

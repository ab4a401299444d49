// `autoserve logs NAME [--tail N] [--follow]`: the replicas' container logs, each line marked with
// its replica; --follow polls with since= the newest time seen.
import type { Command } from 'commander';
import type { LogLine } from '../../runtime/runtime.js';
import { clientFrom, withServerOptions, type ApiClient } from '../api-client.js';
import { CliError } from '../cli-error.js';
import { printToStdout, type Print } from '../output.js';
import { DEFAULT_POLL_MS, SeenSet, pollUntilAborted } from '../poll.js';

export interface LogsOptions {
  tail?: number;
  follow?: boolean;
  /** Show Docker's timestamp before each line. */
  timestamps?: boolean;
  intervalMs?: number;
  signal?: AbortSignal;
}

const FOLLOW_TAIL = 10_000;

export async function showLogs(client: ApiClient, app: string, options: LogsOptions, print: Print): Promise<void> {
  const path = `/apps/${encodeURIComponent(app)}/logs`;
  const seen = new SeenSet();
  let newest: string | undefined;
  const fetchAndPrint = async (query: Record<string, string | number | undefined>) => {
    const { lines } = await client.get<{ lines: LogLine[] }>(path, query);
    for (const l of lines) {
      if (!seen.add(`${l.replica}\0${l.time}\0${l.stream}\0${l.line}`)) continue;
      print(`${options.timestamps ? `${l.time} ` : ''}${l.replica} | ${l.line}`);
      if (newest === undefined || l.time > newest) newest = l.time;
    }
  };
  await fetchAndPrint({ tail: options.tail ?? 100 });
  if (!options.follow) return;
  const startedAt = new Date().toISOString();
  await pollUntilAborted(
    () => fetchAndPrint({ tail: FOLLOW_TAIL, since: newest ?? startedAt }),
    options.intervalMs ?? DEFAULT_POLL_MS,
    options.signal,
  );
}

export function registerLogs(program: Command): void {
  withServerOptions(
    program
      .command('logs')
      .description("print an app's container logs (every replica, marked with its name)")
      .argument('<name>', 'the app name')
      .option('--tail <n>', 'lines from the end of each replica log', '100')
      .option('-f, --follow', 'keep printing new lines', false)
      .option('-t, --timestamps', 'show timestamps', false),
  ).action(async (name: string, flags: { tail: string; follow: boolean; timestamps: boolean; server?: string; token?: string }) => {
    const tail = Number(flags.tail);
    if (!Number.isInteger(tail) || tail < 0) throw new CliError('BadArgument', '--tail must be a whole number');
    await showLogs(clientFrom(flags), name, { tail, follow: flags.follow, timestamps: flags.timestamps }, printToStdout);
  });
}

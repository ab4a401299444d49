// `autoserve events [--app NAME] [--watch]`: the audit log; --watch polls /events?since=.
import { printable } from '../../core/printable.js';
import type { Command } from 'commander';
import type { EventRecord } from '../../store/status-model.js';
import { clientFrom, withServerOptions, type ApiClient } from '../api-client.js';
import { CliError } from '../cli-error.js';
import { formatTime } from '../format.js';
import { printToStdout, type Print } from '../output.js';
import { DEFAULT_POLL_MS, SeenSet, pollUntilAborted } from '../poll.js';

export interface EventsOptions {
  app?: string;
  limit?: number;
  watch?: boolean;
  intervalMs?: number;
  signal?: AbortSignal;
}

/** One line per event; messages quote manifests, git commits and Docker: escaped, never raw. */
export function formatEvent(e: EventRecord): string {
  const count = e.count > 1 ? ` (x${e.count})` : '';
  return printable(`${formatTime(e.time)}  ${e.type.padEnd(7)}  ${e.reason.padEnd(20)}  ${(e.app ?? '-').padEnd(16)}  ${e.message}${count}`);
}

export async function showEvents(client: ApiClient, options: EventsOptions, print: Print): Promise<void> {
  const seen = new SeenSet();
  let since: string | undefined;
  const fetchAndPrint = async (query: Record<string, string | number | undefined>) => {
    const { events } = await client.get<{ events: EventRecord[] }>('/events', { app: options.app, ...query });
    for (const e of events) {
      // A repeat of a collapsed event has a new time and count: it is news, print it again.
      if (seen.add(`${e.id}:${e.count}`)) print(formatEvent(e));
      if (since === undefined || e.time > since) since = e.time;
    }
  };
  await fetchAndPrint({ limit: options.limit ?? 50 });
  if (!options.watch) return;
  const startedAt = new Date().toISOString();
  await pollUntilAborted(() => fetchAndPrint({ since: since ?? startedAt, limit: 2_000 }), options.intervalMs ?? DEFAULT_POLL_MS, options.signal);
}

export function registerEvents(program: Command): void {
  withServerOptions(
    program
      .command('events')
      .description('show the audit log of the controller (newest last)')
      .option('--app <name>', 'only events of this app')
      .option('--limit <n>', 'how many recent events to show first', '50')
      .option('-w, --watch', 'keep printing new events as they happen', false),
  ).action(async (flags: { app?: string; limit: string; watch: boolean; server?: string; token?: string }) => {
    const limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new CliError('BadArgument', '--limit must be a positive whole number');
    await showEvents(clientFrom(flags), { app: flags.app, limit, watch: flags.watch }, printToStdout);
  });
}

// `autoserve top [--replicas]`: the current CPU, memory, request rate, p95 and replicas of each
// app (like `kubectl top`), from the controller's latest metric history sample (GET /top).
import type { Command } from 'commander';
import type { TopAnswer, TopEntry } from '../../history/history-views.js';
import { clientFrom, withServerOptions, type ApiClient } from '../api-client.js';
import { formatBytes, formatCores, formatMillis, formatPercent, formatRate, formatTable } from '../format.js';
import { printToStdout, type Print } from '../output.js';

export interface TopOptions {
  app?: string;
  /** One row per replica instead of per app. */
  replicas?: boolean;
}

export async function showTop(client: ApiClient, options: TopOptions, print: Print): Promise<void> {
  const answer = await client.get<TopAnswer>('/top', { app: options.app });
  for (const line of formatTop(answer, options.replicas ?? false)) print(line);
}

/**
 * NAME REPLICAS CPU(cores) CPU% MEMORY MEMORY% RPS P95 per app; with `replicas`, APP REPLICA
 * CPU(cores) CPU% MEMORY MEMORY% per running replica. CPU% and MEMORY% are shares of the limits.
 */
export function formatTop(answer: TopAnswer, replicas: boolean): string[] {
  if (answer.apps.length === 0) return ['No apps.'];
  const table = replicas
    ? formatTable(
        ['APP', 'REPLICA', 'CPU(cores)', 'CPU%', 'MEMORY', 'MEMORY%'],
        answer.apps.flatMap((a) =>
          a.replicas.map((r) => [a.name, r.name, formatCores(r.cpuCores), formatPercent(r.cpu), formatBytes(r.memoryBytes), formatPercent(r.memory)]),
        ),
      )
    : formatTable(['NAME', 'REPLICAS', 'CPU(cores)', 'CPU%', 'MEMORY', 'MEMORY%', 'RPS', 'P95'], answer.apps.map(appRow));
  const unsampled = answer.apps.filter((a) => a.time === null).length;
  const note = unsampled > 0 ? [`(${unsampled} app(s) not sampled yet: one sample every ${answer.intervalSeconds}s)`] : [];
  return [...table, ...note];
}

function appRow(a: TopEntry): string[] {
  const replicas = a.ready === null || a.desired === null ? '-' : `${a.ready}/${a.desired}`;
  return [a.name, replicas, formatCores(a.cpuCores), formatPercent(a.cpu), formatBytes(a.memoryBytes), formatPercent(a.memory), formatRate(a.rps), formatMillis(a.p95Ms)];
}

export function registerTop(program: Command): void {
  withServerOptions(
    program
      .command('top')
      .description('show current CPU, memory, requests per second, p95 latency and replicas per app')
      .argument('[app]', 'only this app')
      .option('--replicas', 'one row per replica', false),
  ).action(async (app: string | undefined, flags: { replicas: boolean; server?: string; token?: string }) => {
    await showTop(clientFrom(flags), { app, replicas: flags.replicas }, printToStdout);
  });
}

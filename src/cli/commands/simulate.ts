import { basename } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatMarkdownRows, formatSummaryTable, formatTimeline } from '../../sim/format-report.js';
import { simulateFiles } from '../../sim/simulate-files.js';

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('replay a request trace through the autoscaling policy of a manifest; prints the replica timeline, seconds over the latency objective and replica-seconds')
    .requiredOption('--manifest <file>', 'App manifest with a spec.scaling block')
    .requiredOption('--trace <file>', 'CSV trace: second,arrivals_per_second,service_time_ms (docs/autoscaling.md)')
    .option('--app <name>', 'the app to use when the manifest file holds several')
    .option('--startup-seconds <n>', 'seconds from creating a replica to it serving', positive, 5)
    .option('--capacity-rps-per-replica <n>', 'requests per second one replica serves (default: concurrency x 1000 / service_time_ms)', positive)
    .option('--concurrency-per-replica <n>', 'requests one replica works on at once, for the default capacity', positive, 4)
    .option('--slo-ms <n>', 'latency objective for the p95 (default: policy.http.maxP95LatencyMs)', positive)
    .addOption(new Option('--baseline <policy>', 'also run a baseline policy').choices(['hpa']))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'markdown']).default('table'))
    .action(async (opts: SimulateCliOptions) => {
      const run = await simulateFiles({
        manifest: opts.manifest,
        trace: opts.trace,
        startupSeconds: opts.startupSeconds,
        concurrencyPerReplica: opts.concurrencyPerReplica,
        ...(opts.app !== undefined ? { app: opts.app } : {}),
        ...(opts.capacityRpsPerReplica !== undefined ? { capacityRpsPerReplica: opts.capacityRpsPerReplica } : {}),
        ...(opts.sloMs !== undefined ? { sloMs: opts.sloMs } : {}),
        ...(opts.baseline !== undefined ? { baseline: opts.baseline } : {}),
      });
      if (opts.output === 'json') {
        console.log(JSON.stringify(run, null, 2));
      } else if (opts.output === 'markdown') {
        console.log(formatMarkdownRows(basename(opts.trace, '.csv'), run.results));
      } else {
        console.log(`app ${run.app}, trace ${run.trace} (${run.results[0]?.seconds ?? 0} s), latency objective p95 <= ${run.sloMs} ms\n`);
        for (const result of run.results) console.log(`${formatTimeline(result)}\n`);
        console.log(formatSummaryTable(run.results));
      }
    });
}

interface SimulateCliOptions {
  manifest: string;
  trace: string;
  app?: string;
  startupSeconds: number;
  capacityRpsPerReplica?: number;
  concurrencyPerReplica: number;
  sloMs?: number;
  baseline?: 'hpa';
  output: 'table' | 'json' | 'markdown';
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

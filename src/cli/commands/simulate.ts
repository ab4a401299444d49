import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatMarkdownRows, formatSummaryTable, formatTimeline } from '../../sim/format-report.js';
import { renderHtmlReport } from '../../sim/html-report.js';
import { BASELINES, simulateFiles, type BaselineName } from '../../sim/simulate-files.js';

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('replay a request trace through the autoscaling policy of a manifest; prints the replica timeline, seconds over the latency objective and replica-seconds')
    .requiredOption('--manifest <file>', 'App manifest with a spec.scaling block')
    .requiredOption('--trace <file>', 'CSV trace: second,arrivals_per_second,service_time_ms (docs/autoscaling.md)')
    .option('--app <name>', 'the app to use when the manifest file holds several')
    .option('--startup-seconds <n>', 'seconds from creating a replica to it serving', positive, 5)
    .option('--metric-delay-seconds <n>', 'how old the newest request metrics are when the policy decides (the access log lag)', nonNegative, 2)
    .option('--capacity-rps-per-replica <n>', 'requests per second one replica serves (default: concurrency x 1000 / service_time_ms)', positive)
    .option('--concurrency-per-replica <n>', 'requests one replica works on at once (its workers in the queue model)', wholePositive, 4)
    .option('--slo-ms <n>', 'latency objective for the p95 (default: policy.http.maxP95LatencyMs)', positive)
    .option('--baseline <policies>', `also run baseline policies, comma-separated: ${BASELINES.join(', ')}`, baselines)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'markdown']).default('table'))
    .option('--report <file.html>', 'also write a self-contained HTML page with one chart per policy (load, replicas, p95 against the objective)')
    .action(async (opts: SimulateCliOptions) => {
      const run = await simulateFiles({
        manifest: opts.manifest,
        trace: opts.trace,
        startupSeconds: opts.startupSeconds,
        metricDelaySeconds: opts.metricDelaySeconds,
        concurrencyPerReplica: opts.concurrencyPerReplica,
        ...(opts.app !== undefined ? { app: opts.app } : {}),
        ...(opts.capacityRpsPerReplica !== undefined ? { capacityRpsPerReplica: opts.capacityRpsPerReplica } : {}),
        ...(opts.sloMs !== undefined ? { sloMs: opts.sloMs } : {}),
        ...(opts.baseline !== undefined ? { baselines: opts.baseline } : {}),
      });
      if (opts.report !== undefined) {
        await writeFile(opts.report, await renderHtmlReport({ ...run, trace: basename(opts.trace) }));
      }
      const { points: _points, ...result } = run;
      if (opts.output === 'json') {
        console.log(JSON.stringify(result, null, 2));
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
  metricDelaySeconds: number;
  capacityRpsPerReplica?: number;
  concurrencyPerReplica: number;
  sloMs?: number;
  baseline?: BaselineName[];
  output: 'table' | 'json' | 'markdown';
  report?: string;
}

function wholePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number >= 1');
  return n;
}

function baselines(value: string): BaselineName[] {
  const names = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  for (const name of names) {
    if (!(BASELINES as readonly string[]).includes(name)) throw new InvalidArgumentError(`unknown baseline ${JSON.stringify(name)} (choose from ${BASELINES.join(', ')})`);
  }
  return [...new Set(names)] as BaselineName[];
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number >= 0');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

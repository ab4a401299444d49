// Prints bench/simulate.sh's table from its JSON results: one row per policy and trace, and for
// AutoServe whether it met the targets (src/sim/targets.ts), then the traces met per set (directory).
// Usage: npx tsx bench/simulate-table.ts --results DIR --trace=FILE.csv ...
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMarkdownRows, judgeTargets, MARKDOWN_HEADER, type SimulateFilesResult } from '../src/sim/index.js';

const { values } = parseArgs({ options: { results: { type: 'string' }, trace: { type: 'string', multiple: true } } });
if (!values.results || !values.trace) throw new Error('usage: simulate-table.ts --results DIR --trace=FILE.csv ...');
console.log(MARKDOWN_HEADER);
/** Per trace set (the trace's directory): traces met, traces run. */
const sets = new Map<string, { met: number; run: number }>();
for (const trace of values.trace) {
  const name = basename(trace, '.csv');
  const run = JSON.parse(readFileSync(join(values.results, `${name}.json`), 'utf8')) as SimulateFilesResult;
  console.log(formatMarkdownRows(name, run.results));
  const set = sets.get(dirname(trace)) ?? { met: 0, run: 0 };
  set.run++;
  if (judgeTargets(run.results)?.met) set.met++;
  sets.set(dirname(trace), set);
}
console.log('');
for (const [dir, { met, run }] of sets) console.log(`targets met on ${met} of ${run} traces in ${dir}`);

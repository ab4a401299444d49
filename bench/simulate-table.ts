// Prints bench/simulate.sh's table from its JSON results: one row per policy and trace, and for
// AutoServe whether it met the targets (src/sim/targets.ts), then a count of traces met.
// Usage: npx tsx bench/simulate-table.ts --results DIR --trace=FILE.csv ...
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMarkdownRows, judgeTargets, MARKDOWN_HEADER, type SimulateFilesResult } from '../src/sim/index.js';

const { values } = parseArgs({ options: { results: { type: 'string' }, trace: { type: 'string', multiple: true } } });
if (!values.results || !values.trace) throw new Error('usage: simulate-table.ts --results DIR --trace=FILE.csv ...');
console.log(MARKDOWN_HEADER);
let met = 0;
for (const trace of values.trace) {
  const name = basename(trace, '.csv');
  const run = JSON.parse(readFileSync(join(values.results, `${name}.json`), 'utf8')) as SimulateFilesResult;
  console.log(formatMarkdownRows(name, run.results));
  if (judgeTargets(run.results)?.met) met++;
}
console.log(`\ntargets met on ${met} of ${values.trace.length} traces`);

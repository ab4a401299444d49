// `autoserve get apps`: one row per app, from the controller's status endpoint.
import type { Command } from 'commander';
import { dump } from 'js-yaml';
import type { AppStatus } from '../../store/status-model.js';
import { clientFrom, withServerOptions, type ApiClient } from '../api-client.js';
import { CliError } from '../cli-error.js';
import { formatAge, formatTable } from '../format.js';
import { printToStdout, type Print } from '../output.js';

export type GetOutput = 'table' | 'wide' | 'json' | 'yaml';
const OUTPUTS: GetOutput[] = ['table', 'wide', 'json', 'yaml'];

export async function getApps(client: ApiClient, output: GetOutput, print: Print, now = Date.now()): Promise<void> {
  const { apps } = await client.get<{ apps: AppStatus[] }>('/apps');
  if (output === 'json') return print(JSON.stringify({ apps }, null, 2));
  if (output === 'yaml') return print(dump({ apps }, { lineWidth: 120, noRefs: true }).trimEnd());
  if (apps.length === 0) return print('No apps.');
  print(formatAppsTable(apps, output === 'wide', now).join('\n'));
}

/** NAME READY UP-TO-DATE PHASE IMAGE AGE, REVISION when any app has a source commit, more when wide. */
export function formatAppsTable(apps: AppStatus[], wide: boolean, now = Date.now()): string[] {
  const withRevision = apps.some((a) => a.revision !== undefined);
  const header = ['NAME', 'READY', 'UP-TO-DATE', 'PHASE', 'IMAGE', ...(withRevision ? ['REVISION'] : []), 'AGE'];
  if (wide) header.push('CONTAINER-REVISION', 'HOST', 'FILE');
  const rows = apps.map((a) => {
    const row = [
      a.name,
      `${a.replicas.ready}/${a.replicas.desired}`,
      String(a.replicas.updated),
      a.phase,
      a.spec?.image ?? '<none>',
      ...(withRevision ? [a.revision?.commit.slice(0, 7) ?? '-'] : []),
      formatAge(a.createdAt, now),
    ];
    if (wide) row.push(a.containerRevision ?? '-', a.spec ? `${a.spec.ingress.host}${a.spec.ingress.pathPrefix}` : '-', a.file ?? '-');
    return row;
  });
  return formatTable(header, rows);
}

export function registerGet(program: Command): void {
  withServerOptions(
    program
      .command('get')
      .description('list apps and their status (from the running controller)')
      .argument('<resource>', 'what to list: apps')
      .option('-o, --output <format>', 'table, wide, json or yaml', 'table'),
  ).action(async (resource: string, flags: { output: string; server?: string; token?: string }) => {
    if (!['apps', 'app'].includes(resource)) throw new CliError('BadArgument', `unknown resource ${JSON.stringify(resource)} (try: get apps)`);
    const output = flags.output as GetOutput;
    if (!OUTPUTS.includes(output)) throw new CliError('BadArgument', `-o must be one of ${OUTPUTS.join(', ')}`);
    await getApps(clientFrom(flags), output, printToStdout);
  });
}

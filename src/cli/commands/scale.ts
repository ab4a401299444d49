// `autoserve scale NAME --replicas N`: sets spec.replicas in the app's manifest file.
import type { Command } from 'commander';
import { setReplicas, type EditResult } from '../../manifest/edit-manifest.js';
import { CliError } from '../cli-error.js';
import { printToStdout, type Print } from '../output.js';
import { editManifestVerb, withManifestsOption } from './edit-verb.js';

export function scaleApp(dir: string, app: string, replicas: number, print: Print): Promise<EditResult> {
  return editManifestVerb(dir, app, setReplicas(replicas), `replicas set to ${replicas}`, print);
}

export function registerScale(program: Command): void {
  withManifestsOption(
    program
      .command('scale')
      .description("set an app's replica count in its manifest file")
      .argument('<name>', 'the app name')
      .requiredOption('--replicas <n>', 'the replica count'),
  ).action(async (name: string, flags: { replicas: string; manifests: string }) => {
    const replicas = Number(flags.replicas);
    if (!/^\d+$/.test(flags.replicas) || !Number.isSafeInteger(replicas)) throw new CliError('BadArgument', '--replicas must be a whole number');
    await scaleApp(flags.manifests, name, replicas, printToStdout);
  });
}

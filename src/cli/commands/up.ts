// `autoserve up NAME`: sets spec.state: up in the app's manifest file.
import type { Command } from 'commander';
import { setState, type EditResult } from '../../manifest/edit-manifest.js';
import { printToStdout, type Print } from '../output.js';
import { editManifestVerb, withManifestsOption } from './edit-verb.js';

export function upApp(dir: string, app: string, print: Print): Promise<EditResult> {
  return editManifestVerb(dir, app, setState('up'), 'state set to up', print);
}

export function registerUp(program: Command): void {
  withManifestsOption(
    program.command('up').description('start an app again: spec.state up in its manifest file').argument('<name>', 'the app name'),
  ).action(async (name: string, flags: { manifests: string }) => {
    await upApp(flags.manifests, name, printToStdout);
  });
}

// `autoserve down NAME`: sets spec.state: down (every replica stops, the app stays declared).
import type { Command } from 'commander';
import { setState, type EditResult } from '../../manifest/edit-manifest.js';
import { printToStdout, type Print } from '../output.js';
import { editManifestVerb, withManifestsOption } from './edit-verb.js';

export function downApp(dir: string, app: string, print: Print): Promise<EditResult> {
  return editManifestVerb(dir, app, setState('down'), 'state set to down', print);
}

export function registerDown(program: Command): void {
  withManifestsOption(
    program.command('down').description('stop every replica of an app but keep it declared: spec.state down').argument('<name>', 'the app name'),
  ).action(async (name: string, flags: { manifests: string }) => {
    await downApp(flags.manifests, name, printToStdout);
  });
}

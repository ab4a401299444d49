// Shared by scale, up and down: edit an app's manifest in the manifests directory (no daemon
// needed; a running daemon picks the change up like any edit) and say what changed.
import type { Command } from 'commander';
import { ManifestEditError, editAppManifest, type EditResult, type ManifestMutation } from '../../manifest/edit-manifest.js';
import { CliError } from '../cli-error.js';
import type { Print } from '../output.js';

export async function editManifestVerb(dir: string, app: string, mutation: ManifestMutation, what: string, print: Print): Promise<EditResult> {
  let result: EditResult;
  try {
    result = await editAppManifest(dir, app, mutation);
  } catch (err) {
    if (err instanceof ManifestEditError) throw new CliError('ManifestEdit', err.message, { cause: err });
    throw err;
  }
  print(result.changed ? `${app}: ${what} (${result.file})` : `${app}: unchanged, already ${what.replace(/^set /, '')} (${result.file})`);
  return result;
}

export function withManifestsOption(command: Command): Command {
  return command.option('--manifests <dir>', 'directory of App manifests', 'manifests');
}

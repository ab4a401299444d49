import type { Command } from 'commander';
import { formatManifestError, validatePaths } from '../../manifest/validate-paths.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check manifest files or directories; prints one error a line, exits 1 when any is invalid')
    .argument('<paths...>', 'manifest files or directories')
    .action(async (paths: string[]) => {
      const errors = await validatePaths(paths);
      for (const error of errors) console.log(formatManifestError(error));
      if (errors.length > 0) process.exitCode = 1;
      else console.log(`${paths.join(', ')}: valid`);
    });
}

// The flags that open values to apps' `valueFrom`, shared by `run` (the controller) and `plan`
// (which must resolve exactly as the controller would). One name per setting, flag or variable.
import type { Command } from 'commander';
import { parseOpenEnv } from '../secrets/value-source.js';

export const OPEN_ENV_VARIABLE = 'AUTOSERVE_OPEN_ENV';
export const SECRETS_DIR_VARIABLE = 'AUTOSERVE_SECRETS_DIR';

export function addValueSourceFlags(command: Command): Command {
  return command
    .option('--open-env <names>', `controller variables apps may read with valueFrom: names or prefixes ending in *, comma-separated (or ${OPEN_ENV_VARIABLE}); AUTOSERVE_* is never opened`, process.env[OPEN_ENV_VARIABLE])
    .option('--secrets-dir <dir>', `directory of secret files apps may read with valueFrom: {secret: NAME} (or ${SECRETS_DIR_VARIABLE})`, process.env[SECRETS_DIR_VARIABLE]);
}

/** The opened sources as the flags say, over this process's environment. */
export function valueSourceOptionsOf(flags: { openEnv?: string; secretsDir?: string }): { openEnv: string[]; secretsDir?: string } {
  return { openEnv: parseOpenEnv(flags.openEnv), ...(flags.secretsDir ? { secretsDir: flags.secretsDir } : {}) };
}

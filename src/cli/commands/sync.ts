import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isDaemonProcess, pidFilePath, readPidFile } from '../../daemon/pid-file.js';

/** `autoserve sync`: makes a running daemon poll its git source now (SIGHUP via <state>/autoserve.pid). */
export function registerSync(program: Command): void {
  program
    .command('sync')
    .description('make the running controller fetch its git source now instead of at the next poll')
    .option('--state <dir>', 'state directory of the controller', 'state')
    .action(async (flags: { state: string }) => {
      const stateDir = resolve(flags.state);
      const pid = await readPidFile(stateDir);
      if (pid === undefined) throw new Error(`no controller pid file at ${pidFilePath(stateDir)}; is autoserve running with --state ${flags.state}?`);
      if (!(await isDaemonProcess(pid))) throw new Error(`the controller in ${pidFilePath(stateDir)} (pid ${pid}) is not running`);
      process.kill(pid, 'SIGHUP');
      console.log(`asked controller ${pid} to sync`);
    });
}

import { resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { NginxProcess } from '../../controllers/routes/nginx-process.js';
import { nginxPrefixDir } from '../../controllers/routes/nginx-paths.js';
import { DEFAULT_OPTIONS } from '../../daemon/options.js';

export function registerStopLb(program: Command): void {
  program
    .command('stop-lb')
    .description("stop the controller's own nginx master (it keeps serving while the controller is down)")
    .option('--state <dir>', 'state directory of the controller', 'state')
    .action(async (flags: { state: string }) => {
      const prefixDir = nginxPrefixDir(resolve(flags.state));
      const nginx = new NginxProcess({ prefixDir, listen: { host: DEFAULT_OPTIONS.lbHost, port: DEFAULT_OPTIONS.lbPort }, logger: pino({ level: 'silent' }) });
      const pid = await nginx.pid();
      if (pid === undefined) {
        console.log(`no nginx master of ours runs in ${prefixDir}`);
        return;
      }
      await nginx.stop();
      console.log(`stopped nginx master ${pid}`);
    });
}

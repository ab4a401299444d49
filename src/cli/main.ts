#!/usr/bin/env node
// The autoserve command: a thin shell over the importable API, one file per verb in ./commands.
import { Command } from 'commander';
import { registerRun } from './commands/run.js';
import { registerStopLb } from './commands/stop-lb.js';
import { registerValidate } from './commands/validate.js';

const program = new Command()
  .name('autoserve')
  .description('declarative reconciler for Docker hosts: App manifests in, healthy load-balanced containers out')
  .showHelpAfterError();

registerRun(program);
registerValidate(program);
registerStopLb(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // Known failures are one line, not a stack trace.
  console.error(`autoserve: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

// The autoserve command: a thin shell over the importable API, one file per verb in ./commands.
import { Command } from 'commander';
import { registerRun } from './commands/run.js';
import { registerSimulate } from './commands/simulate.js';
import { registerStopLb } from './commands/stop-lb.js';
import { registerValidate } from './commands/validate.js';
import { registerGet } from './commands/get.js';
import { registerDescribe } from './commands/describe.js';
import { registerEvents } from './commands/events.js';
import { registerLogs } from './commands/logs.js';
import { registerPlan } from './commands/plan.js';
import { registerScale } from './commands/scale.js';
import { registerUp } from './commands/up.js';
import { registerDown } from './commands/down.js';
import { registerSync } from './commands/sync.js';
import { registerLeader } from './commands/leader.js';
import { registerTop } from './commands/top.js';
import { registerRollout } from './commands/rollout-status.js';

const program = new Command()
  .name('autoserve')
  .description('declarative reconciler for Docker hosts: App manifests in, healthy load-balanced containers out')
  .showHelpAfterError();

registerRun(program);
registerValidate(program);
registerStopLb(program);
registerSimulate(program);
registerGet(program);
registerDescribe(program);
registerEvents(program);
registerLogs(program);
registerPlan(program);
registerScale(program);
registerUp(program);
registerDown(program);
registerSync(program);
registerLeader(program);
registerTop(program);
registerRollout(program);

export async function runProgram(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // Known failures are one line, not a stack trace.
    console.error(`autoserve: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

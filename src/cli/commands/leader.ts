// `autoserve leader`: whether the controller asked acts, and which one does (on a Swarm, any
// controller answers, the standby too).
import type { Command } from 'commander';
import type { LeadershipStatus } from '../../core/leadership.js';
import { clientFrom, withServerOptions } from '../api-client.js';
import { printToStdout } from '../output.js';

export function formatLeadership(status: LeadershipStatus): string[] {
  if (status.mode === 'single') return ['single controller: it leads (runtime docker)'];
  const leader = status.leader === undefined ? 'not known yet' : status.leader === '' ? 'nobody (the lease is free)' : status.leader;
  return [
    `leader:          ${leader}`,
    `this controller: ${status.identity} (${status.leading ? 'leading' : 'standing by'} since ${status.since})`,
  ];
}

export function registerLeader(program: Command): void {
  withServerOptions(program.command('leader').description('show which controller leads (Swarm: one leads, the others stand by)')).action(
    async (flags: { server?: string; token?: string }) => {
      const status = await clientFrom(flags).get<LeadershipStatus>('/leader');
      for (const line of formatLeadership(status)) printToStdout(line);
    },
  );
}

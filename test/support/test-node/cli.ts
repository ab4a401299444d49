// Command line for test nodes (scripts/test-node.sh): make a cluster by hand, get into a node,
// stop or hang its dockerd, tear it down, sweep leftovers. Clusters made here are kept (they outlive
// this process) until `down`.
import { spawn } from 'node:child_process';
import { Command, InvalidArgumentError } from 'commander';
import { listClaims, sweepSlots } from './slot-registry.js';
import { attachTestCluster, createTestCluster, type TestCluster } from './test-cluster.js';
import { destroySlot } from './teardown.js';

const program = new Command().name('test-node.sh').description('private dockerd test nodes in network namespaces').showHelpAfterError();

program
  .command('up')
  .description('make a cluster of test nodes and print how to reach them')
  .option('--nodes <n>', 'node count (1..8)', int, 1)
  .option('--images <list>', 'comma-separated local images to copy into every node', '')
  .option('--swarm', 'join the nodes into one Swarm')
  .option('--managers <n>', 'Swarm managers (with --swarm)', int, 1)
  .option('--heartbeat-ms <ms>', 'Swarm agent heartbeat (with --swarm)', int)
  .option('--live-restore', 'dockerd live-restore on every node')
  .option('--json', 'print JSON')
  .action(async (opts: { nodes: number; images: string; swarm?: boolean; managers: number; heartbeatMs?: number; liveRestore?: boolean; json?: boolean }) => {
    const cluster = await createTestCluster({
      nodes: opts.nodes,
      images: opts.images.split(',').filter(Boolean),
      swarm: opts.swarm ? { managers: opts.managers, heartbeatMs: opts.heartbeatMs } : false,
      liveRestore: opts.liveRestore,
      purpose: 'scripts/test-node.sh up',
      keep: true,
    });
    print(cluster, opts.json ?? false);
  });

program
  .command('down')
  .description('tear clusters down (every process, mount, namespace, link and directory)')
  .argument('<slot...>', 'slot numbers', (value: string, acc: number[] = []) => [...acc, int(value)])
  .action(async (slots: number[]) => {
    for (const slot of slots) await destroySlot(slot);
  });

program
  .command('list')
  .description('claimed slots, their owners, and whether they are stale')
  .action(async () => {
    for (const claim of await listClaims()) {
      const owner = claim.owner ? `pid ${claim.owner.pid}${claim.owner.keep ? ' (kept)' : ''} ${claim.owner.purpose} since ${claim.owner.createdAt}` : 'no owner yet';
      console.log(`slot ${claim.slot}: ${owner}${claim.stale ? ' STALE' : ''}`);
    }
  });

program
  .command('sweep')
  .description('remove stale slots and unclaimed leftovers (--all: every slot, kept ones too)')
  .option('--all', 'also slots whose owner lives: only when no test runs')
  .action(async (opts: { all?: boolean }) => {
    const swept = await sweepSlots({ all: opts.all });
    console.log(swept.length ? `swept slots ${swept.join(', ')}` : 'nothing to sweep');
  });

program
  .command('exec')
  .description('run a command in a node\'s network namespace with DOCKER_HOST set to its dockerd')
  .argument('<slot>', 'slot', int)
  .argument('<node>', 'node index', int)
  .argument('<command...>', 'the command (put -- before it)')
  .action(async (slot: number, index: number, argv: string[]) => {
    const node = (await attachTestCluster(slot)).node(index);
    const child = node.spawn(argv, { stdio: 'inherit' });
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
  });

program
  .command('dockerd')
  .description('stop (SIGTERM), kill (SIGKILL), start, restart, pause (SIGSTOP) or resume (SIGCONT) a node\'s dockerd')
  .argument('<slot>', 'slot', int)
  .argument('<node>', 'node index', int)
  .argument('<action>', 'stop | kill | start | restart | pause | resume')
  .option('--live-restore', 'with start/restart: live-restore on')
  .option('--no-live-restore', 'with start/restart: live-restore off')
  .action(async (slot: number, index: number, action: string, opts: { liveRestore?: boolean }) => {
    const node = (await attachTestCluster(slot)).node(index);
    const actions: Record<string, () => Promise<void>> = {
      stop: () => node.stopDockerd('SIGTERM'),
      kill: () => node.stopDockerd('SIGKILL'),
      start: () => node.startDockerd({ liveRestore: opts.liveRestore }),
      restart: () => node.restartDockerd({ liveRestore: opts.liveRestore }),
      pause: () => node.pauseDockerd(),
      resume: () => node.resumeDockerd(),
    };
    const run = actions[action];
    if (!run) throw new InvalidArgumentError(`unknown action ${action} (${Object.keys(actions).join(', ')})`);
    await run();
  });

function print(cluster: TestCluster, json: boolean): void {
  const nodes = cluster.nodes.map((n) => ({ index: n.plan.index, name: n.name, address: n.address, dockerHost: n.dockerHost, netns: n.netnsPath }));
  if (json) {
    console.log(JSON.stringify({ slot: cluster.slot, hostAddress: cluster.hostAddress, nodes, swarm: cluster.swarm, timings: cluster.timings }, null, 2));
    return;
  }
  console.log(`slot ${cluster.slot}: host ${cluster.hostAddress}, up in ${cluster.timings.totalMs} ms ${JSON.stringify(cluster.timings)}`);
  for (const n of nodes) console.log(`  node ${n.index}  ${n.address}  DOCKER_HOST=${n.dockerHost}  netns ${n.netns}`);
  if (cluster.swarm) console.log(`  swarm: ${cluster.swarm.nodeIds.length} nodes, manager ${nodes[0]?.address}:2377`);
  console.log(`  shell on node 0: scripts/test-node.sh exec ${cluster.slot} 0 -- bash`);
  console.log(`  remove:          scripts/test-node.sh down ${cluster.slot}`);
}

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`not a whole number: ${value}`);
  return n;
}

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`test-node: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

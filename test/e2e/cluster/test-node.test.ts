// A private test node: its own dockerd in a network namespace, that a test may restart, kill or
// hang without anyone else noticing, and that leaves nothing behind.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { nodePlan, RUN_ROOT } from '../../support/test-node/address-plan.js';
import { listNetns, runCommand } from '../../support/test-node/netns.js';
import { sweepSlots } from '../../support/test-node/slot-registry.js';
import { createTestCluster, testNodesUnsupported, type TestCluster, type TestNode } from '../../support/test-node/test-cluster.js';

const IMAGE = 'autoserve-demo:v1';
const unsupported = await testNodesUnsupported();

describe.skipIf(unsupported)('test node: a private dockerd in a network namespace', () => {
  let cluster: TestCluster;
  let node: TestNode;
  let hostRulesBefore: string;

  beforeAll(async () => {
    hostRulesBefore = await hostFirewall();
    cluster = await createTestCluster({ images: [IMAGE], purpose: 'e2e test-node' });
    node = cluster.node(0);
    console.log(`test node up: ${JSON.stringify(cluster.timings)}`);
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('runs a container whose published port answers the host at the node address', async () => {
    const container = await runDemo(node, 'web', 8081);
    const body = await eventually(() => get(node.address, 8081, '/version'), { timeoutMs: 10_000 });
    expect(body.trim()).toBe('v1');
    const info = (await node.docker.info()) as { DockerRootDir: string; Swarm: { LocalNodeState: string } };
    expect(info.DockerRootDir).toBe(`${nodePlan(cluster.slot, 0).dataDir}/docker`);
    await container.remove({ force: true });
  });

  it('a process spawned on the node sees its network: 127.0.0.1 published ports and DOCKER_HOST', async () => {
    await runDemo(node, 'loopback', 8082, '127.0.0.1');
    const out = await node.exec(['sh', '-c', 'echo "$DOCKER_HOST"; busybox wget -q -O - http://127.0.0.1:8082/healthz']);
    expect(out.split('\n')).toEqual([node.dockerHost, 'ok']);
    await expect(get('127.0.0.1', 8082, '/healthz', 1000)).rejects.toThrow();
  });

  it('SIGTERM without live-restore stops the containers; with live-restore they serve through the restart', async () => {
    const web = await runDemo(node, 'restart-me', 8083);
    await eventually(() => get(node.address, 8083, '/healthz'), { timeoutMs: 10_000 });
    await node.stopDockerd('SIGTERM');
    expect((await readFile(`${RUN_ROOT}/${cluster.slot}/0/containerd.pid`, 'utf8')).trim()).not.toBe('');
    await node.startDockerd({ liveRestore: true });
    expect((await web.inspect()).State.Running).toBe(false);
    await web.start();
    await eventually(() => get(node.address, 8083, '/healthz'), { timeoutMs: 10_000 });

    await node.stopDockerd('SIGTERM');
    // dockerd is gone, the container (and its published port: iptables DNAT inside the node) still serve.
    const during = await get(node.address, 8083, '/healthz');
    // live-restore must be on at the start too: a dockerd started without it kills what it finds running.
    await node.startDockerd();
    expect(during.trim()).toBe('ok');
    expect((await web.inspect()).State.Running).toBe(true);
  });

  it('SIGSTOP hangs the API while containers keep serving; SIGCONT brings it back', async () => {
    await runDemo(node, 'pause-me', 8084);
    await eventually(() => get(node.address, 8084, '/healthz'), { timeoutMs: 10_000 });
    await node.pauseDockerd();
    try {
      await expect(node.docker.ping({ abortSignal: AbortSignal.timeout(1000) } as never)).rejects.toThrow();
      expect((await get(node.address, 8084, '/healthz')).trim()).toBe('ok');
    } finally {
      await node.resumeDockerd();
    }
    await eventually(() => node.docker.ping(), { timeoutMs: 5_000 });
  });

  it('destroy removes processes, mounts, namespaces, links and directories, and the host firewall is as before', async () => {
    const slot = cluster.slot;
    const plan = nodePlan(slot, 0);
    const dockerdPid = await node.engine.dockerdPid();
    await cluster.destroy();
    expect(await listNetns()).not.toContain(plan.netns);
    expect(await runCommand(['ip', '-o', 'link', 'show']).then((out) => out.includes(`astn${slot}:`) || out.includes(`astn${slot}@`))).toBe(false);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toMatch(new RegExp(`autoserve-tn/${slot}/`));
    expect(await readdir(plan.runDir).catch(() => 'gone')).toBe('gone');
    expect(await readdir(plan.dataDir).catch(() => 'gone')).toBe('gone');
    expect(await readFile(`/proc/${dockerdPid}/stat`).catch(() => 'gone')).toBe('gone');
    expect(await hostFirewall()).toBe(hostRulesBefore);
  });
});

/** The host's iptables rules that could concern test nodes (their ranges or interfaces). */
async function hostFirewall(): Promise<string> {
  const rules = await runCommand(['iptables-save']);
  return rules
    .split('\n')
    .filter((line) => /10\.191\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|astn|autoserve-tn/.test(line))
    .join('\n');
}

async function runDemo(node: TestNode, name: string, port: number, hostIp = '0.0.0.0') {
  const container = await node.docker.createContainer({
    name,
    Image: IMAGE,
    HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: hostIp, HostPort: String(port) }] }, Init: true },
  });
  await container.start();
  return container;
}

/** Body of a 200 answer from a node address, or a rejection. */
async function get(address: string, port: number, path: string, timeoutMs = 2000): Promise<string> {
  const res = await httpGet(port, address, path, timeoutMs, address);
  if (res.status !== 200) throw new Error(`GET ${address}:${port}${path}: ${res.status}`);
  return res.body;
}

describe.skipIf(unsupported)('test node sweep', () => {
  it('removes the cluster of a test process that was killed, and nothing of a live one', async () => {
    const live = await createTestCluster({ purpose: 'e2e sweep: the live one' });
    const script = [
      "import { createTestCluster } from './test/support/test-node/test-cluster.ts';",
      "const c = await createTestCluster({ purpose: 'e2e sweep: killed owner' });",
      'console.log(JSON.stringify({ slot: c.slot }));',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()));
        child.once('exit', (code) => reject(new Error(`child exited ${code} before making its cluster`)));
      });
      const { slot } = JSON.parse(line) as { slot: number };
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      expect(await listNetns()).toContain(`autoserve-tn-${slot}-0`);

      const swept = await sweepSlots();
      expect(swept).toContain(slot);
      expect(swept).not.toContain(live.slot);
      expect(await listNetns()).not.toContain(`autoserve-tn-${slot}-0`);
      expect(await readdir(`${RUN_ROOT}/${slot}`).catch(() => 'gone')).toBe('gone');
      await live.node(0).docker.ping();
    } finally {
      child.kill('SIGKILL');
      await live.destroy();
    }
  });
});

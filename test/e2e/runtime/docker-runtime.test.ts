// The runtime contract against the real Docker engine (the shared dockerd; everything is labelled
// with this test's label and removed afterwards).
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { LABEL_INSTANCE, LABEL_MANAGED, containerName, replicaLabels } from '../../../src/core/labels.js';
import { isPeerSubnet } from '../../../src/core/peer-address.js';
import type { ContainerShape, ReplicaFacts } from '../../../src/core/replica.js';
import { NetworkUnavailableError } from '../../../src/errors.js';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { LABEL_NETWORK } from '../../../src/runtime/docker/networks.js';
import type { ReplicaRequest } from '../../../src/runtime/runtime.js';
import { createDockerTestEnv } from '../../support/docker-test-env.js';
import { eventually } from '../../support/eventually.js';
import { runtimeContract } from './runtime-contract.js';

runtimeContract('docker', async () => {
  const env = createDockerTestEnv('runtime-contract');
  const runtime = new DockerRuntime({ logger: pino({ level: 'silent' }), docker: env.docker });
  return {
    runtime,
    labels: env.labels,
    image: 'autoserve-demo:v1',
    async cleanup() {
      runtime.close();
      await env.cleanup();
    },
  };
});

// Docker only: AutoServe's networks, and replicas made before them.
describe('docker runtime: networks', () => {
  const env = createDockerTestEnv('runtime-networks');
  const runtime = new DockerRuntime({ logger: pino({ level: 'silent' }), docker: env.docker });
  const instance = `netw-${process.pid}-${randomBytes(3).toString('hex')}`;
  const shape: ContainerShape = { image: 'autoserve-demo:v1', env: {}, ports: [8080], network: 'shared' };
  const request = (app: string, over: Partial<ContainerShape> = {}, slot = 0): ReplicaRequest => ({
    instance, app, revision: 'rev0000001', slot, shape: { ...shape, ...over }, stopTimeoutSeconds: 1, labels: env.labels,
  });
  const started = async (r: ReplicaRequest) => {
    const { id } = await runtime.create(r);
    await runtime.start(id);
    const facts = (await runtime.inspect(id))!;
    await eventually(async () => expect((await fetch(`http://${facts.addresses[8080]!.host}:8080/healthz`)).status).toBe(200), { timeoutMs: 15_000 });
    return facts;
  };
  /** Whether a GET from inside one replica to another's address answers 200 (busybox nc, 2 s to connect). */
  const fetchFrom = async (from: ReplicaFacts, to: ReplicaFacts): Promise<boolean> => {
    const get = `printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 2 ${to.addresses[8080]!.host} 8080 | /bin/busybox grep -q '200 OK'`;
    const exec = await env.docker.getContainer(from.id).exec({ Cmd: ['/bin/busybox', 'sh', '-c', get], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    await new Promise((resolve) => { stream.on('end', resolve); stream.resume(); });
    return (await exec.inspect()).ExitCode === 0;
  };

  afterAll(async () => {
    runtime.close();
    await env.cleanup();
  });

  it('creates the shared network labelled as ours on a subnet Docker picks (private), and adopts it afterwards', async () => {
    const a = await started(request('alpha'));
    const info = await env.docker.getNetwork(a.network!).inspect();
    expect(info.Labels).toMatchObject({ [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: instance, [LABEL_NETWORK]: 'shared', ...env.labels });
    expect(info.Driver).toBe('bridge');
    expect(isPeerSubnet(info.IPAM!.Config![0]!.Subnet!)).toBe(true);
    // A second runtime (a restarted controller) adopts it: same network, no second one.
    const restarted = new DockerRuntime({ logger: pino({ level: 'silent' }), docker: env.docker });
    const { id } = await restarted.create(request('alpha', {}, 1));
    expect((await restarted.inspect(id))!.network).toBe(a.network);
    expect((await env.docker.listNetworks({ filters: { name: [a.network!] } })).filter((n) => n.Name === a.network)).toHaveLength(1);
    await restarted.remove(id);
    restarted.close();
  });

  it('never removes a network in use, and a network removed by hand behind its back is made again', async () => {
    const alpha = (await runtime.list({ instance, app: 'alpha' }))[0]!;
    await expect(env.docker.getNetwork(alpha.network!).remove()).rejects.toMatchObject({ statusCode: 403 });
    const lone = await started(request('lone', { network: 'isolated' }));
    await runtime.remove(lone.id);
    await env.docker.getNetwork(lone.network!).remove(); // by hand
    const again = await started(request('lone', { network: 'isolated' }, 1));
    expect(again.network).toBe(lone.network);
    await runtime.remove(again.id);
    await runtime.pruneNetworks({ instance, app: 'lone' });
  });

  it('refuses a network of its name that is not ours, and creates nothing', async () => {
    const foreignInstance = `${instance}-f`;
    const name = `autoserve-${foreignInstance}`;
    await env.docker.createNetwork({ Name: name, Driver: 'bridge', Labels: env.labels });
    const attempt = runtime.create({ ...request('alpha'), instance: foreignInstance });
    await expect(attempt).rejects.toBeInstanceOf(NetworkUnavailableError);
    await expect(attempt).rejects.toThrow(`network ${name}: a bridge network of this name exists but is not AutoServe's`);
    expect(await runtime.list({ instance: foreignInstance })).toEqual([]);
  });

  it('apps on the shared network reach each other; an isolated app is reached by the host only', async () => {
    const alpha = (await runtime.list({ instance, app: 'alpha' }))[0]!;
    const beta = await started(request('beta'));
    const gamma = await started(request('gamma', { network: 'isolated' }));
    expect(await fetchFrom(alpha, beta)).toBe(true);
    expect(await fetchFrom(alpha, gamma)).toBe(false);
    expect(await fetchFrom(gamma, alpha)).toBe(false);
    await runtime.remove(gamma.id);
    await runtime.pruneNetworks({ instance, app: 'gamma' });
  });

  it('a replica made before networks (published on 127.0.0.1, default bridge) is reached at its published port, through docker-proxy', async () => {
    const legacy = await env.docker.createContainer({
      name: containerName(instance, 'old', 'rev0000000', 0),
      Image: 'autoserve-demo:v1',
      Labels: { ...env.labels, ...replicaLabels({ instance, app: 'old', revision: 'rev0000000', slot: 0 }) },
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, Init: true },
    });
    await legacy.start();
    const facts = (await runtime.inspect(legacy.id))!;
    expect(facts.network).toBeUndefined();
    expect(facts.addresses[8080]).toEqual({ host: '127.0.0.1', port: facts.published[8080]!.port, proxied: true });
    await eventually(async () => expect((await fetch(`http://127.0.0.1:${facts.addresses[8080]!.port}/healthz`)).status).toBe(200), { timeoutMs: 15_000 });
  });
});

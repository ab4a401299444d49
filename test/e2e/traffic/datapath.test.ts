// The data path end to end: nginx reaches replicas at their address on AutoServe's network, no
// host port is published unless a manifest asks, an app can have a network of its own, and a
// deployment made before networks (replicas with published 127.0.0.1 ports, nginx routing to them)
// rolls over to the network under load without a failed request, one replica at a time.
import { readdir, readFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxPrefixDir } from '../../../src/controllers/routes/nginx-paths.js';
import { NginxProcess } from '../../../src/controllers/routes/nginx-process.js';
import { revisionOf } from '../../../src/controllers/containers/revision.js';
import { containerName, replicaLabels } from '../../../src/core/labels.js';
import type { Address, ContainerShape, ReplicaFacts } from '../../../src/core/replica.js';
import { appManifest } from '../../support/app-manifest.js';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { LoadGenerator, type LoadResult } from '../../support/load-generator.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

const APP = 'echo';
const HOST = `${APP}.localhost`;
const IMAGE = 'autoserve-node-echo:v1';
const echo = appManifest(APP, { image: IMAGE, replicas: 2, spec: '  env:\n    - { name: VERSION, value: "v1" }' });

/** What AutoServe created before networks: the default bridge, every port published on 127.0.0.1. */
function olderReplicaOptions(instance: string, slot: number, labels: Record<string, string>): Docker.ContainerCreateOptions {
  const shape = { image: IMAGE, env: { VERSION: 'v1' }, ports: [8080] }; // its revision had no network in it
  const revision = revisionOf(shape as unknown as ContainerShape);
  return {
    name: containerName(instance, APP, revision, slot),
    Image: IMAGE,
    Env: ['VERSION=v1'],
    Labels: { ...labels, ...replicaLabels({ instance, app: APP, revision, slot }) },
    ExposedPorts: { '8080/tcp': {} },
    StopTimeout: 10,
    HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, Init: true, RestartPolicy: { Name: 'no' } },
  };
}

/** Every docker-proxy on this host that forwards to `ip` (Docker starts one per published port). */
async function dockerProxiesTo(ip: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (args[0]?.endsWith('docker-proxy') && args[args.indexOf('-container-ip') + 1] === ip) found.push(args.join(' '));
  }
  return found;
}

function report(name: string, result: LoadResult): void {
  console.log(`[${name}] sent=${result.sent} ok=${result.ok} failed=${result.failed} keepAliveRetries=${result.keepAliveRetries} p99=${result.latenciesMs.p99}ms upstreams=${JSON.stringify(result.byUpstream)}`);
  if (result.failures.length > 0) console.log(`[${name}] failures: ${JSON.stringify(result.failures.slice(0, 5))}`);
}

describe('data path: replicas on AutoServe\'s network', () => {
  let t: TestDaemon;
  let load: LoadGenerator;
  let loadDone: Promise<LoadResult>;
  const olderHostnames: string[] = [];
  /** Observations taken while the controller rolls the older replicas over. */
  const seen: { older: number; running: number }[] = [];

  beforeAll(async () => {
    // An older deployment is serving under load when the new controller starts on its state dir.
    t = await startTestDaemon('datapath', {}, { before: async ({ env, options, manifestsDir }) => {
      const older: Address[] = [];
      for (const slot of [0, 1]) {
        const container = await env.docker.createContainer(olderReplicaOptions(options.instance, slot, env.labels));
        await container.start();
        const info = await container.inspect();
        olderHostnames.push(info.Config.Hostname);
        older.push({ host: '127.0.0.1', port: Number(info.NetworkSettings.Ports['8080/tcp']![0]!.HostPort) });
      }
      for (const address of older) await eventually(async () => expect((await httpGet(address.port, 'x', '/healthz')).status).toBe(200), { timeoutMs: 15_000 });
      const nginx = new NginxProcess({ prefixDir: nginxPrefixDir(options.stateDir), listen: { host: '127.0.0.1', port: options.lbPort }, logger: pino({ level: 'silent' }) });
      await nginx.apply({ routes: [{ app: APP, host: HOST, pathPrefix: '/', servers: older }] });
      expect((await httpGet(options.lbPort, HOST)).status).toBe(200);
      await import('node:fs/promises').then((fs) => fs.writeFile(`${manifestsDir}/echo.yaml`, echo));
      load = new LoadGenerator({ port: options.lbPort, hostHeader: HOST, ratePerSec: 40, durationMs: 90_000, timeoutMs: 5_000, isOk: (s) => s === 200 });
      loadDone = load.run();
    } });
  });
  afterAll(async () => {
    load?.stop();
    await loadDone?.catch(() => undefined);
    await t?.cleanup();
  });

  it('rolls a deployment made before networks over to the network under load: zero failed requests, one replica at a time', async () => {
    try {
      await eventually(
        async () => {
          const containers = await t.containers(APP);
          const running = containers.filter((c) => c.running);
          seen.push({ older: running.filter((c) => !c.network).length, running: running.length });
          expect(containers).toHaveLength(2);
          expect(containers.every((c) => c.running && c.network)).toBe(true);
          expect(t.daemon.store.app(APP)?.replicas).toMatchObject({ desired: 2, ready: 2, updated: 2 });
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      load.stop();
    }
    const result = await loadDone;
    report('upgrade', result);
    expect(result.failed).toBe(0);
    // Both generations served, and the older replicas left one by one, never above maxSurge.
    expect(olderHostnames.some((h) => (result.byUpstream[h] ?? 0) > 0)).toBe(true);
    const hostnames = (await t.containers(APP)).map((c) => c.id.slice(0, 12));
    expect(hostnames.some((h) => (result.byUpstream[h] ?? 0) > 0)).toBe(true);
    expect(Math.max(...seen.map((s) => s.running))).toBeLessThanOrEqual(3);
    for (let i = 1; i < seen.length; i++) expect(seen[i - 1]!.older - seen[i]!.older).toBeLessThanOrEqual(1);
    expect(seen[0]!.older).toBeGreaterThan(0); // the rollover was observed, not finished before the first look
  });

  it('publishes nothing on the host: no host port, no docker-proxy; nginx and the status use the network address', async () => {
    const replicas = await t.running(APP);
    for (const replica of replicas) {
      const info = await t.env.docker.getContainer(replica.id).inspect();
      expect(Object.values(info.NetworkSettings.Ports ?? {}).every((bindings) => !bindings || bindings.length === 0)).toBe(true);
      expect(replica.published).toEqual({});
      expect(await dockerProxiesTo(replica.addresses[8080]!.host)).toEqual([]);
    }
    const instances = t.daemon.store.app(APP)!.instances;
    expect(instances.map((i) => i.address).sort()).toEqual(replicas.map((r) => `${r.addresses[8080]!.host}:8080`).sort());
    expect(instances.every((i) => i.hostPort === undefined && i.network === replicas[0]!.network)).toBe(true);
  });

  it('publishes a port when the manifest asks: on 127.0.0.1, at a port Docker picks, while nginx still uses the network', async () => {
    await t.writeManifest('pub.yaml', appManifest('pub').replace('    - containerPort: 8080', '    - { containerPort: 8080, publish: true }'));
    let replica!: ReplicaFacts;
    await eventually(async () => {
      replica = (await t.running('pub'))[0]!;
      expect(replica?.published[8080]).toMatchObject({ host: '127.0.0.1' });
      expect(t.daemon.store.app('pub')?.replicas.ready).toBe(1);
    }, { timeoutMs: 30_000 });
    expect((await httpGet(replica.published[8080]!.port, 'x', '/healthz')).status).toBe(200);
    expect(await dockerProxiesTo(replica.addresses[8080]!.host)).toHaveLength(1);
    expect(t.daemon.store.app('pub')!.instances[0]).toMatchObject({ hostPort: replica.published[8080]!.port, address: `${replica.addresses[8080]!.host}:8080` });
    expect((await httpGet(t.options.lbPort, 'pub.localhost', '/healthz')).status).toBe(200);
    await t.removeManifest('pub.yaml');
  });

  it('an isolated app is served through nginx from a network of its own, removed with the app', async () => {
    await t.writeManifest('solo.yaml', appManifest('solo', { spec: '  network: { isolated: true }' }));
    let replica!: ReplicaFacts;
    await eventually(async () => {
      replica = (await t.running('solo'))[0]!;
      expect(t.daemon.store.app('solo')?.replicas.ready).toBe(1);
      expect((await httpGet(t.options.lbPort, 'solo.localhost', '/healthz')).status).toBe(200);
    }, { timeoutMs: 30_000 });
    const shared = (await t.running(APP))[0]!.network;
    expect(replica.network).toBeTruthy();
    expect(replica.network).not.toBe(shared);
    await t.removeManifest('solo.yaml');
    await eventually(async () => {
      expect(await t.containers('solo')).toEqual([]);
      expect((await t.env.docker.listNetworks({ filters: { name: [replica.network!] } })).filter((n) => n.Name === replica.network)).toEqual([]);
    }, { timeoutMs: 30_000 });
  });
});

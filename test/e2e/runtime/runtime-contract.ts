// The runtime contract: what the controllers rely on, written once and run against every
// implementation of ContainerRuntime (Docker, and Swarm on a private single-node swarm). Each implementation's test file
// calls runtimeContract with a factory. Only the event stream's reconnect is not here: it needs the
// engine to go away, which a shared engine must not (test/unit/runtime/docker/events.test.ts).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_APP, LABEL_REVISION, LABEL_SLOT, containerName } from '../../../src/core/labels.js';
import type { ContainerShape, ReplicaFacts } from '../../../src/core/replica.js';
import { isPeerIpv4 } from '../../../src/core/peer-address.js';
import { ImagePullFailedError, ReplicaExistsError, RuntimeUnresponsiveError, UnsupportedByRuntimeError } from '../../../src/errors.js';
import type { ContainerRuntime, ReplicaRequest } from '../../../src/runtime/runtime.js';
import { eventually } from '../../support/eventually.js';

export interface ContractSubject {
  runtime: ContainerRuntime;
  /** Labels that mark what this test creates (its cleanup removes them). */
  labels: Record<string, string>;
  /** An image present on the engine that serves GET /healthz on 8080. */
  image: string;
  /**
   * What the runtime refuses (UnsupportedByRuntimeError, nothing created): a published port, a
   * network of the app's own. Absent: it does both.
   */
  refuses?: readonly ('publish' | 'isolated')[];
  /** Makes the engine hang (SIGSTOP) and answer again: only an engine of the test's own. */
  hang?: { pause(): Promise<void>; resume(): Promise<void> };
  cleanup(): Promise<void>;
}

/** The bound of a ping (runtime/docker/docker-call.ts), with room for a loaded machine. */
const PING_BOUND_MS = 5_000;

const PORT = 8080;
const SHAPE_COMMAND = ['/bin/busybox', 'sh', '-c', 'echo hello-out; echo hello-err >&2; exec /bin/busybox httpd -f -p 8080 -h /www'];

export function runtimeContract(name: string, makeSubject: () => Promise<ContractSubject>): void {
  describe(`runtime contract: ${name}`, () => {
    let subject: ContractSubject;
    let runtime: ContainerRuntime;
    const instance = `contract-${process.pid}-${randomBytes(3).toString('hex')}`;
    let request: ReplicaRequest;
    let replica: { id: string; name: string };

    beforeAll(async () => {
      subject = await makeSubject();
      runtime = subject.runtime;
      const shape: ContainerShape = { image: subject.image, command: SHAPE_COMMAND, env: { GREETING: 'hi' }, resources: { memory: '32Mi' }, ports: [PORT], network: 'shared' };
      request = { instance, app: 'web', revision: 'rev0000001', slot: 0, shape, stopTimeoutSeconds: 1, labels: subject.labels };
    });
    afterAll(async () => {
      await subject?.cleanup();
    });

    const mine = async (app?: string): Promise<ReplicaFacts[]> => runtime.list({ instance, app });

    it('answers a ping, and says whether replicas survive a restart of the engine', async () => {
      await expect(runtime.ping()).resolves.toBeUndefined();
      expect(typeof (await runtime.engine()).replicasSurviveRestart).toBe('boolean');
    });

    it('creates a replica under its deterministic name, labelled as ours, listed by instance and app', async () => {
      replica = await runtime.create(request);
      expect(replica.name).toBe(containerName(instance, 'web', 'rev0000001', 0));
      const [listed, ...others] = await mine();
      expect(others).toEqual([]);
      expect(listed).toMatchObject({ id: replica.id, name: replica.name, app: 'web', revision: 'rev0000001', slot: 0, running: false });
      expect(listed!.labels).toMatchObject({ [LABEL_APP]: 'web', [LABEL_REVISION]: 'rev0000001', [LABEL_SLOT]: '0', ...subject.labels });
      expect(await mine('web')).toHaveLength(1);
      expect(await mine('other')).toEqual([]);
      expect(await runtime.list({ instance: `${instance}-other` })).toEqual([]);
    });

    it('never makes two replicas of one name: a second create is ReplicaExistsError and changes nothing', async () => {
      const second = runtime.create(request);
      await expect(second).rejects.toBeInstanceOf(ReplicaExistsError);
      await expect(second).rejects.toMatchObject({ reason: 'ReplicaExists', kind: 'transient' });
      const listed = await mine();
      expect(listed.map((r) => r.id)).toEqual([replica.id]);
    });

    it('starts it (twice is fine) and reports the address its traffic port is reached at: on its network, nothing published', async () => {
      await runtime.start(replica.id);
      await runtime.start(replica.id);
      const facts = await runtime.inspect(replica.id);
      expect(facts).toMatchObject({ id: replica.id, running: true, state: 'running', published: {} });
      expect(facts!.network).toBeTruthy();
      const address = facts!.addresses[PORT];
      expect(address).toMatchObject({ port: PORT });
      expect(address!.proxied).toBeFalsy();
      expect(isPeerIpv4(address!.host) && !address!.host.startsWith('127.')).toBe(true);
      await eventually(async () => expect((await fetch(`http://${address!.host}:${address!.port}/healthz`)).status).toBe(200), { timeoutMs: 15_000 });
      expect((await mine())[0]!.addresses[PORT]).toEqual(address);
    });

    const refused = (what: 'publish' | 'isolated') => subject.refuses?.includes(what) ?? false;

    it('publishes a port on the host only when the shape asks, at the host IP it names; traffic still goes to the network address (or refuses to, creating nothing)', async () => {
      const asked: ReplicaRequest = { ...request, slot: 2, shape: { ...request.shape, publish: [{ containerPort: PORT, hostIp: '127.0.0.1' }] } };
      if (refused('publish')) {
        await expect(runtime.create(asked)).rejects.toBeInstanceOf(UnsupportedByRuntimeError);
        expect((await mine()).map((r) => r.id)).toEqual([replica.id]);
        return;
      }
      const published = await runtime.create(asked);
      try {
        await runtime.start(published.id);
        const facts = (await runtime.inspect(published.id))!;
        expect(facts.published[PORT]).toMatchObject({ host: '127.0.0.1' });
        expect(facts.addresses[PORT]!.host).not.toBe('127.0.0.1');
        const hostPort = facts.published[PORT]!.port;
        await eventually(async () => expect((await fetch(`http://127.0.0.1:${hostPort}/healthz`)).status).toBe(200), { timeoutMs: 15_000 });
      } finally {
        await runtime.remove(published.id);
      }
    });

    it('an isolated replica is on a network of its app\'s own; pruneNetworks removes it once unused and never the shared one (or refuses it, creating nothing)', async () => {
      if (refused('isolated')) {
        await expect(runtime.create({ ...request, app: 'lonely', slot: 0, shape: { ...request.shape, network: 'isolated' } })).rejects.toBeInstanceOf(UnsupportedByRuntimeError);
        expect(await mine('lonely')).toEqual([]);
        expect(await runtime.pruneNetworks({ instance, app: 'lonely' })).toEqual([]);
        return;
      }
      const shared = (await runtime.inspect(replica.id))!.network;
      const isolated = await runtime.create({ ...request, app: 'lonely', slot: 0, shape: { ...request.shape, network: 'isolated' } });
      await runtime.start(isolated.id);
      const facts = (await runtime.inspect(isolated.id))!;
      expect(facts.network).toBeTruthy();
      expect(facts.network).not.toBe(shared);
      await eventually(async () => expect((await fetch(`http://${facts.addresses[PORT]!.host}:${PORT}/healthz`)).status).toBe(200), { timeoutMs: 15_000 });
      expect(await runtime.pruneNetworks({ instance, app: 'lonely' })).toEqual([]); // in use
      await runtime.remove(isolated.id);
      expect(await runtime.pruneNetworks({ instance, app: 'lonely' })).toEqual([facts.network]);
      expect(await runtime.pruneNetworks({ instance, app: 'web' })).toEqual([]); // the shared one stays
      // A later create makes the app's network again.
      const again = await runtime.create({ ...request, app: 'lonely', slot: 1, shape: { ...request.shape, network: 'isolated' } });
      await runtime.remove(again.id);
      await runtime.pruneNetworks({ instance, app: 'lonely' });
    });

    it('reads its output, marked with the replica and stream', async () => {
      await eventually(async () => {
        const lines = await runtime.logs(replica, { tail: 10 });
        expect(lines).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ replica: replica.name, stream: 'stdout', line: 'hello-out' }),
            expect.objectContaining({ replica: replica.name, stream: 'stderr', line: 'hello-err' }),
          ]),
        );
      });
    });

    it('measures its memory (a share of its limit) and omits what cannot be measured', async () => {
      const usage = await runtime.usage([{ id: replica.id }, { id: 'no-such-replica' }]);
      const reading = usage.get(replica.id);
      expect(reading?.memoryBytes).toBeGreaterThan(0);
      expect(reading?.memory).toBeGreaterThan(0);
      expect(reading?.memory).toBeLessThan(1);
      expect(usage.has('no-such-replica')).toBe(false);
      runtime.forgetUsage(replica.id);
    });

    it('a second usage reader keeps readings of its own: forgetting there leaves the runtime\'s CPU delta intact', async () => {
      const reader = runtime.usageReader();
      try {
        await runtime.usage([{ id: replica.id }]); // the runtime's first reading: the start of its CPU delta
        await new Promise((r) => setTimeout(r, 100));
        expect((await reader.usage([{ id: replica.id }])).get(replica.id)?.memoryBytes).toBeGreaterThan(0);
        reader.forgetUsage(replica.id);
        const again = (await runtime.usage([{ id: replica.id }])).get(replica.id);
        expect(again?.cpu).toEqual(expect.any(Number));
      } finally {
        reader.close();
        runtime.forgetUsage(replica.id);
      }
    });

    it('names the app of each event about its replicas', async () => {
      const seen: string[] = [];
      const watcher = runtime.watch({ instance }, { onApp: (app, action) => seen.push(`${app}:${action}`), onReconnect: () => {} });
      try {
        await new Promise((r) => setTimeout(r, 300)); // the stream is open
        await runtime.stop(replica.id, 1);
        await eventually(() => expect(seen).toContain('web:die'), { timeoutMs: 10_000 });
      } finally {
        watcher.close();
      }
    });

    it('stop is idempotent: a stopped replica stops again without error', async () => {
      await runtime.stop(replica.id, 1);
      expect(await runtime.inspect(replica.id)).toMatchObject({ running: false });
    });

    it('a missing replica is already gone: remove, stop, inspect and logs do not fail', async () => {
      await runtime.remove(replica.id);
      await runtime.remove(replica.id);
      await runtime.stop(replica.id, 1);
      expect(await runtime.inspect(replica.id)).toBeUndefined();
      expect(await runtime.logs(replica, { tail: 5 })).toEqual([]);
      expect(await mine()).toEqual([]);
    });

    it('removes a running replica too (forcibly)', async () => {
      const again = await runtime.create({ ...request, slot: 1 });
      await runtime.start(again.id);
      await runtime.remove(again.id);
      expect(await runtime.inspect(again.id)).toBeUndefined();
    });

    it('hasImage says whether an image is present; pullImage of one that cannot be had is ImagePullFailedError, soon', async () => {
      expect(await runtime.hasImage(subject.image)).toBe(true);
      expect(await runtime.hasImage('autoserve-no-such-image:contract')).toBe(false);
      const started = Date.now();
      await expect(runtime.pullImage('autoserve-no-such-image:contract')).rejects.toBeInstanceOf(ImagePullFailedError);
      expect(Date.now() - started).toBeLessThan(60_000);
    });

    it('every verb honours an aborted signal: it rejects with the reason and changes nothing', async () => {
      const abort = new AbortController();
      abort.abort(new Error('stopping'));
      const signal = abort.signal;
      const made = await runtime.create({ ...request, slot: 2 });
      try {
        await expect(runtime.ping({ signal })).rejects.toThrow('stopping');
        await expect(runtime.list({ instance }, { signal })).rejects.toThrow('stopping');
        await expect(runtime.inspect(made.id, { signal })).rejects.toThrow('stopping');
        await expect(runtime.create({ ...request, slot: 3 }, { signal })).rejects.toThrow('stopping');
        await expect(runtime.start(made.id, { signal })).rejects.toThrow('stopping');
        await expect(runtime.stop(made.id, 1, { signal })).rejects.toThrow('stopping');
        await expect(runtime.remove(made.id, { signal })).rejects.toThrow('stopping');
        await expect(runtime.logs(made, { tail: 5 }, { signal })).rejects.toThrow('stopping');
        expect((await mine()).map((r) => [r.slot, r.running])).toEqual([[2, false]]);
      } finally {
        await runtime.remove(made.id);
      }
    });

    it('an engine that hangs costs a call its bound (RuntimeUnresponsive), and an abort ends the wait sooner', async (context) => {
      if (!subject.hang) return context.skip(); // the shared engine is never stopped: test/chaos/dockerd-hang covers Docker
      await subject.hang.pause();
      try {
        const started = Date.now();
        await expect(runtime.ping()).rejects.toBeInstanceOf(RuntimeUnresponsiveError);
        expect(Date.now() - started).toBeLessThan(PING_BOUND_MS + 3_000);
        const abort = new AbortController();
        const listing = runtime.list({ instance }, { signal: abort.signal });
        setTimeout(() => abort.abort(new Error('stopping')), 200);
        const waited = Date.now();
        await expect(listing).rejects.toThrow('stopping');
        expect(Date.now() - waited).toBeLessThan(2_000);
      } finally {
        await subject.hang.resume();
      }
      await eventually(() => runtime.ping(), { timeoutMs: 15_000 });
    });

    it('pullImage and hasImage: an aborted signal stops the waiting with its reason', async () => {
      const abort = new AbortController();
      abort.abort(new Error('stopping'));
      await expect(runtime.pullImage('autoserve-no-such-image:contract', { signal: abort.signal })).rejects.toThrow('stopping');
      await expect(runtime.hasImage(subject.image, { signal: abort.signal })).rejects.toThrow('stopping');
    });
  });
}

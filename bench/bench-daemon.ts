// An in-process AutoServe daemon for benchmarks, and the label cleanup they share: temp manifests and state dirs, its own instance
// and labels, a free nginx port; stop() removes what it made (the containers through the bench's
// own cleanup, since benchmarks also make containers of their own under the same label).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import pino from 'pino';
import { startDaemon, type Daemon } from '../src/daemon/daemon.js';
import { resolveOptions, type DaemonOptions } from '../src/daemon/options.js';
import { stopTestNginx } from '../test/support/daemon-dirs.js';
import { freePort } from '../test/support/free-port.js';

export interface BenchDaemon {
  daemon: Daemon;
  options: DaemonOptions;
  manifestsDir: string;
  /** Stops the daemon, removes the bench's containers, stops its nginx, removes its dirs. */
  stop(): Promise<void>;
}

export async function startBenchDaemon(opts: { name: string; instance: string; labels: Record<string, string>; removeContainers: () => Promise<void> }): Promise<BenchDaemon> {
  const root = await mkdtemp(join(tmpdir(), `autoserve-${opts.name}-`));
  const manifestsDir = join(root, 'manifests');
  await mkdir(manifestsDir);
  const options = resolveOptions({
    manifestsDir,
    stateDir: join(root, 'state'),
    instance: opts.instance,
    containerLabels: opts.labels,
    lbPort: await freePort(),
    port: 0,
    logLevel: 'warn',
  });
  const daemon = await startDaemon(options, pino({ level: 'warn' }));
  await daemon.ready;
  return {
    daemon,
    options,
    manifestsDir,
    async stop() {
      await daemon.stop();
      await opts.removeContainers();
      await stopTestNginx(options.stateDir, options.lbPort);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Force-removes every container that carries `label` (key=value). */
export async function removeLabelledContainers(docker: Docker, label: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

/** Removes every network that carries `label` (key=value). */
export async function removeLabelledNetworks(docker: Docker, label: string): Promise<void> {
  const list = await docker.listNetworks({ filters: { label: [label] } });
  await Promise.all(list.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
}

// One test node's container engine: its own containerd and dockerd, started inside the node's
// network namespace (nsenter --net only: same mount namespace, so sockets and data are plain
// paths on the host), each with its own root, state, sockets, pid file and log.
//
// containerd runs as its own process, as on a packaged host (containerd.service beside
// docker.service): stopping or restarting dockerd leaves containerd and, with live-restore,
// the containers running. Nothing here is shared with the host's dockerd: not the containerd
// (dockerd would otherwise attach to one at /run/containerd/containerd.sock), not the exec root,
// not the cgroup parent, not daemon.json, not the iptables (they belong to the node's namespace).
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { NodePlan } from './address-plan.js';
import { nsenterArgs } from './netns.js';
import { isRunning, signalProcess, sleep, waitForExit, waitForStopped } from './processes.js';

export const ENGINE_START_TIMEOUT_MS = 30_000;
export const DOCKERD_STOP_TIMEOUT_MS = 30_000;
const STOP_WAIT_MS = 5_000;

export interface EngineOptions {
  /** dockerd's live-restore (containers keep running while dockerd is down). Not with Swarm. */
  liveRestore?: boolean;
  /** Extra dockerd flags. */
  dockerdArgs?: string[];
}

export interface EnginePaths {
  containerdConfig: string;
  containerdPidFile: string;
  containerdLog: string;
  daemonJson: string;
  dockerdPidFile: string;
  dockerdLog: string;
  execRoot: string;
  containerdState: string;
}

export function enginePaths(plan: NodePlan): EnginePaths {
  return {
    containerdConfig: join(plan.runDir, 'containerd.toml'),
    containerdPidFile: join(plan.runDir, 'containerd.pid'),
    containerdLog: join(plan.runDir, 'containerd.log'),
    daemonJson: join(plan.runDir, 'daemon.json'),
    dockerdPidFile: join(plan.runDir, 'dockerd.pid'),
    dockerdLog: join(plan.runDir, 'dockerd.log'),
    execRoot: join(plan.runDir, 'exec'),
    containerdState: join(plan.runDir, 'containerd'),
  };
}

export class NodeEngine {
  readonly paths: EnginePaths;
  /** A client for this node's dockerd (unix socket). */
  readonly docker: Docker;
  private liveRestore: boolean;

  constructor(
    readonly plan: NodePlan,
    private readonly options: EngineOptions = {},
  ) {
    this.paths = enginePaths(plan);
    this.docker = new Docker({ socketPath: plan.dockerSocket });
    this.liveRestore = options.liveRestore ?? false;
  }

  /** Starts containerd (unless it runs) and dockerd; resolves once dockerd answers a ping. */
  async start(): Promise<void> {
    await mkdir(this.plan.runDir, { recursive: true });
    await mkdir(this.plan.dataDir, { recursive: true });
    if (!(await this.containerdRunning())) await this.startContainerd();
    await this.startDockerd();
  }

  async dockerdPid(): Promise<number | undefined> {
    return readPid(this.paths.dockerdPidFile);
  }

  async containerdPid(): Promise<number | undefined> {
    return readPid(this.paths.containerdPidFile);
  }

  /**
   * Starts dockerd (containerd must run). `liveRestore` changes the setting for this and later
   * starts. Resolves once the API answers.
   */
  async startDockerd(options: { liveRestore?: boolean } = {}): Promise<void> {
    if (options.liveRestore !== undefined) this.liveRestore = options.liveRestore;
    const pid = await this.dockerdPid();
    if (pid !== undefined && (await isRunning(pid))) throw new Error(`dockerd of ${this.plan.netns} already runs (pid ${pid})`);
    // Only settings that dockerd can reload go in daemon.json (a key both there and in a flag is an error).
    await writeFile(this.paths.daemonJson, `${JSON.stringify({ 'live-restore': this.liveRestore }, null, 2)}\n`);
    const child = this.spawnDaemon(
      [
        // Its own UTS namespace: each node has its own hostname, as Swarm's node list shows it.
        'unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', this.plan.netns,
        'dockerd',
        `--config-file=${this.paths.daemonJson}`,
        `--containerd=${this.plan.containerdSocket}`,
        `--data-root=${join(this.plan.dataDir, 'docker')}`,
        `--exec-root=${this.paths.execRoot}`,
        `--pidfile=${this.paths.dockerdPidFile}`,
        `--host=unix://${this.plan.dockerSocket}`,
        `--bip=${this.plan.bip}`,
        `--default-address-pool=base=${this.plan.addressPool.base},size=${this.plan.addressPool.size}`,
        `--cgroup-parent=${this.plan.cgroupParent}`,
        ...(this.options.dockerdArgs ?? []),
      ],
      this.paths.dockerdLog,
    );
    await this.waitUntil(child, 'dockerd', this.paths.dockerdLog, () => this.docker.ping().then(() => true, () => false));
  }

  /**
   * Stops dockerd with `signal` (SIGTERM: an orderly shutdown, as a package upgrade does; SIGKILL:
   * a crash) and waits until it has exited. Without live-restore an orderly stop also stops the
   * containers; containerd keeps running either way.
   */
  async stopDockerd(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = DOCKERD_STOP_TIMEOUT_MS): Promise<void> {
    const pid = await this.dockerdPid();
    if (pid === undefined || !(await isRunning(pid))) return;
    signalProcess(pid, 'SIGCONT'); // a stopped process would never act on SIGTERM
    signalProcess(pid, signal);
    if (!(await waitForExit(pid, timeoutMs))) {
      throw new Error(`dockerd of ${this.plan.netns} (pid ${pid}) still runs ${timeoutMs} ms after ${signal}`);
    }
  }

  /**
   * SIGSTOP (pause) or SIGCONT (resume) dockerd: a hung engine whose socket still accepts
   * connections. A pause resolves once every dockerd thread has stopped.
   */
  async signalDockerd(signal: NodeJS.Signals): Promise<void> {
    const pid = await this.dockerdPid();
    if (pid === undefined) throw new Error(`dockerd of ${this.plan.netns} has no pid file`);
    signalProcess(pid, signal);
    if (signal === 'SIGSTOP' && !(await waitForStopped(pid, STOP_WAIT_MS))) {
      throw new Error(`dockerd of ${this.plan.netns} (pid ${pid}) not stopped ${STOP_WAIT_MS} ms after SIGSTOP`);
    }
  }

  private async containerdRunning(): Promise<boolean> {
    const pid = await this.containerdPid();
    return pid !== undefined && (await isRunning(pid));
  }

  private async startContainerd(): Promise<void> {
    await writeFile(this.paths.containerdConfig, containerdConfig(this.plan, this.paths));
    const child = this.spawnDaemon(['containerd', `--config=${this.paths.containerdConfig}`], this.paths.containerdLog);
    if (child.pid !== undefined) await writeFile(this.paths.containerdPidFile, `${child.pid}\n`);
    await this.waitUntil(child, 'containerd', this.paths.containerdLog, () => canConnect(this.plan.containerdSocket));
  }

  /** Starts a detached daemon inside the node's namespace (nsenter execs it: the pid is the daemon's). */
  private spawnDaemon(argv: string[], logFile: string) {
    const fd = openSync(logFile, 'a');
    try {
      const [file, ...args] = [...nsenterArgs(this.plan.netns), ...argv];
      const child = spawn(file!, args, { detached: true, stdio: ['ignore', fd, fd] });
      child.on('error', () => undefined); // reported through waitUntil (the process never answers)
      child.unref();
      return child;
    } finally {
      closeSync(fd);
    }
  }

  private async waitUntil(
    child: { pid?: number | undefined; exitCode: number | null },
    name: string,
    logFile: string,
    ready: () => Promise<boolean>,
  ): Promise<void> {
    const deadline = Date.now() + ENGINE_START_TIMEOUT_MS;
    for (;;) {
      if (await ready()) return;
      const gone = child.pid === undefined || child.exitCode !== null || !(await isRunning(child.pid));
      if (gone || Date.now() > deadline) {
        const why = gone ? 'exited' : `did not answer within ${ENGINE_START_TIMEOUT_MS} ms`;
        throw new Error(`${name} of ${this.plan.netns} ${why}; last log lines:\n${await logTail(logFile)}`);
      }
      await sleep(50);
    }
  }
}

function containerdConfig(plan: NodePlan, paths: EnginePaths): string {
  // The CRI plugin is off (it would look for CNI config); the opt plugin would use /opt/containerd.
  return [
    'version = 2',
    `root = "${join(plan.dataDir, 'containerd')}"`,
    `state = "${paths.containerdState}"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = "${plan.containerdSocket}"`,
    '[ttrpc]',
    `  address = "${plan.containerdSocket}.ttrpc"`,
    '[debug]',
    '  address = ""',
    '[metrics]',
    '  address = ""',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${join(plan.dataDir, 'opt')}"`,
    '',
  ].join('\n');
}

/** The pid in a pid file, or undefined when missing or garbled. */
export async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function logTail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

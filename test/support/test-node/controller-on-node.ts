// `autoserve run --runtime swarm` as a real process on a test node (a manager): in the node's
// network namespace with DOCKER_HOST at the node's engine, its nginx on the node's 0.0.0.0:LB_PORT
// and its status endpoint on the node's address. The host reaches both at node.address.
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LeadershipStatus } from '../../../src/core/leadership.js';
import type { AppStatus } from '../../../src/store/status-model.js';
import { httpGet } from '../http-get.js';
import type { TestNode } from './test-cluster.js';

export const CONTROLLER_LB_PORT = 8080;
export const CONTROLLER_API_PORT = 8000;

export interface ControllerOnNodeOptions {
  manifestsDir: string;
  stateDir: string;
  instance: string;
  gatewayImage: string;
  extraArgs?: string[];
}

export class ControllerOnNode {
  readonly process: ChildProcess;
  private readonly logFile: string;

  constructor(
    readonly node: TestNode,
    options: ControllerOnNodeOptions,
  ) {
    this.logFile = join(options.stateDir, 'controller.out');
    const log = openSync(this.logFile, 'a');
    try {
      this.process = node.spawn(
        [
          process.execPath, 'dist/cli/main.js', 'run', '--runtime', 'swarm',
          '--manifests', options.manifestsDir, '--state', options.stateDir, '--instance', options.instance,
          '--swarm-gateway-image', options.gatewayImage, '--resync', '5s', '--log-level', 'info',
          '--lb-host', '0.0.0.0', '--lb-port', String(CONTROLLER_LB_PORT), '--host', node.address, '--port', String(CONTROLLER_API_PORT),
          ...(options.extraArgs ?? []),
        ],
        { stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
  }

  get address(): string {
    return this.node.address;
  }

  private async get<T>(path: string, timeoutMs = 2_000): Promise<T> {
    const res = await httpGet(CONTROLLER_API_PORT, this.node.address, path, timeoutMs, this.node.address);
    if (res.status !== 200) throw new Error(`GET ${path} on ${this.node.address}: ${res.status} ${res.body.slice(0, 200)}`);
    return JSON.parse(res.body) as T;
  }

  leadership(): Promise<LeadershipStatus> {
    return this.get<LeadershipStatus>('/leader');
  }

  app(name: string): Promise<AppStatus> {
    return this.get<AppStatus>(`/apps/${name}`);
  }

  /** The last lines of its output (for a failing test's message). */
  async logTail(chars = 3_000): Promise<string> {
    return (await readFile(this.logFile, 'utf8').catch(() => '')).slice(-chars);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.process.kill(signal);
  }

  /** SIGTERM and wait for the exit (it releases the lease and leaves its nginx serving). */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

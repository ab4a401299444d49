// The real `autoserve run` as a child process, for tests of what only a process shows: its exit
// code, its signals, its lock on the state dir, its log. Spawned on the host (shared dockerd, a
// test instance and label) or on a test node (node.spawn). Output is kept in memory and in a file.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { defaultWorkerProcesses } from '../../src/controllers/routes/nginx-process.js';

/** dist/cli/main.js of this checkout (the build the tests run against). */
export const CLI_ENTRY = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface CliDaemonOptions {
  manifestsDir: string;
  stateDir: string;
  /** Status endpoint and load balancer. */
  apiPort: number;
  lbPort: number;
  apiHost?: string;
  lbHost?: string;
  instance?: string;
  containerLabels?: Record<string, string>;
  resync?: string;
  extraArgs?: string[];
  /** Where to copy the output (appended). */
  logFile?: string;
  /** Default: child_process.spawn on the host; a test node passes node.spawn. */
  spawnWith?: (argv: string[], options: SpawnOptions) => ChildProcess;
  env?: NodeJS.ProcessEnv;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class CliDaemon {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private output = '';
  private readonly startedAt = Date.now();
  private lineWaiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  constructor(readonly options: CliDaemonOptions) {
    const argv = [process.execPath, CLI_ENTRY, ...cliRunArgs(options)];
    const spawnOptions: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } };
    this.child = options.spawnWith ? options.spawnWith(argv, spawnOptions) : spawn(argv[0]!, argv.slice(1), spawnOptions);
    const file = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      file?.write(text);
      this.output += text;
      this.checkWaiters();
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => {
      file?.end();
      resolve({ code, signal });
    }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Everything the process printed so far (stdout and stderr). */
  get log(): string {
    return this.output;
  }

  get ageMs(): number {
    return Date.now() - this.startedAt;
  }

  /** Resolves with the first output line (printed or to come) that matches. */
  waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const found = this.output.split('\n').find((l) => pattern.test(l));
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = { pattern, resolve };
      this.lineWaiters.push(waiter);
      const timer = setTimeout(() => {
        this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter);
        reject(new Error(`no output line matching ${pattern} within ${timeoutMs} ms; output:\n${this.output.slice(-3000)}`));
      }, timeoutMs);
      void this.exited.then(() => {
        clearTimeout(timer);
        if (this.lineWaiters.includes(waiter)) reject(new Error(`exited before printing ${pattern}; output:\n${this.output.slice(-3000)}`));
      });
      waiter.resolve = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  /** Sends a signal (if it still runs). */
  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGTERM, then the exit (SIGKILL after timeoutMs, and the test fails on that exit). */
  async stop(timeoutMs = 30_000): Promise<Exit> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private checkWaiters(): void {
    if (this.lineWaiters.length === 0) return;
    const lines = this.output.split('\n');
    for (const waiter of [...this.lineWaiters]) {
      const line = lines.find((l) => waiter.pattern.test(l));
      if (line === undefined) continue;
      this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter);
      waiter.resolve(line);
    }
  }
}

export function cliRunArgs(o: CliDaemonOptions): string[] {
  return [
    'run',
    '--manifests', o.manifestsDir,
    '--state', o.stateDir,
    '--host', o.apiHost ?? '127.0.0.1',
    '--port', String(o.apiPort),
    '--lb-host', o.lbHost ?? '127.0.0.1',
    '--lb-port', String(o.lbPort),
    '--resync', o.resync ?? '5s',
    // As the in-process test daemons: at most 2 nginx workers whatever the machine's cores.
    '--nginx-workers', String(Math.min(2, defaultWorkerProcesses())),
    ...(o.instance ? ['--instance', o.instance] : []),
    ...(o.containerLabels ? ['--container-labels', JSON.stringify(o.containerLabels)] : []),
    ...(o.extraArgs ?? []),
  ];
}

/**
 * How long node takes here from spawn to running a script's first line (the slowest of `runs`).
 * Before that no code of ours runs: a SIGTERM then ends node by the signal, with nothing touched.
 */
export async function nodeBootMs(runs = 3): Promise<number> {
  let slowest = 0;
  for (let i = 0; i < runs; i++) {
    const started = Date.now();
    const child = spawn(process.execPath, ['-e', "process.stdout.write('up')"], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    slowest = Math.max(slowest, Date.now() - started);
    await new Promise((resolve) => child.once('exit', resolve));
  }
  return slowest;
}

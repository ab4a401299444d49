// `autoserve rollout status` and `autoserve top` against a real daemon, real containers and the
// controller's own nginx: a rollout followed to its end, a rollout that halts, and top's figures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../../src/cli/api-client.js';
import { CliError } from '../../../src/cli/cli-error.js';
import { rolloutStatus } from '../../../src/cli/commands/rollout-status.js';
import { showTop } from '../../../src/cli/commands/top.js';
import { collectLines } from '../../../src/cli/output.js';
import { eventually } from '../../support/eventually.js';
import { appManifest } from '../../support/app-manifest.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

/** The node echo server; FAIL_HEALTH makes a revision that never gets healthy. */
function echo(opts: { version: string; replicas: number; failHealth?: boolean }): string {
  return appManifest('echo', {
    image: 'autoserve-node-echo:v1',
    replicas: opts.replicas,
    spec: [
      '  resources: { cpu: 0.5, memory: 64Mi }',
      `  env: [{ name: VERSION, value: "${opts.version}" }, { name: FAIL_HEALTH, value: "${opts.failHealth ? '1' : '0'}" }]`,
      '  rollout: { maxSurge: 1, progressDeadlineSeconds: 6 }',
    ].join('\n'),
  });
}

describe('rollout status and top against a real daemon', () => {
  let t: TestDaemon;
  let client: ApiClient;
  /** Waits until the daemon acted on the manifest just written (its container revision moved). */
  const revisionMoved = (from: string | undefined) =>
    eventually(() => expect(t.daemon.store.app('echo')?.containerRevision).not.toBe(from), { timeoutMs: 20_000 });

  beforeAll(async () => {
    t = await startTestDaemon('rollout-top', { historyIntervalMs: 1_000 });
    client = new ApiClient({ server: `http://127.0.0.1:${t.daemon.apiPort}` });
    await t.writeManifest('echo.yaml', echo({ version: 'v1', replicas: 2 }));
    const out = collectLines();
    // A new app: waited for until it appears, then until it is rolled out.
    await rolloutStatus(client, 'echo', { timeoutMs: 60_000, intervalMs: 200 }, out.print);
    expect(out.lines.at(-1)).toMatch(/^app "echo" successfully rolled out: revision \w+, 2\/2 replicas ready$/);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('follows a new revision until every replica runs it and is ready', async () => {
    const before = t.daemon.store.app('echo')?.containerRevision;
    await t.writeManifest('echo.yaml', echo({ version: 'v2', replicas: 2 }));
    await revisionMoved(before);
    const out = collectLines();
    await rolloutStatus(client, 'echo', { timeoutMs: 60_000, intervalMs: 100 }, out.print);
    const revision = t.daemon.store.app('echo')!.containerRevision!;
    expect(out.lines.length).toBeGreaterThan(1); // it waited, and said for what
    expect(out.lines.slice(0, -1).every((l) => l.startsWith('Waiting for rollout of "echo" to finish: '))).toBe(true);
    expect(out.lines.at(-1)).toBe(`app "echo" successfully rolled out: revision ${revision}, 2/2 replicas ready`);
    // What it said is what runs: every running replica is of the new revision.
    const running = await t.running('echo');
    expect(running.map((c) => c.revision)).toEqual([revision, revision]);
  });

  it('top shows each app and its replicas with measured CPU and memory', async () => {
    await eventually(async () => {
      const out = collectLines();
      await showTop(client, {}, out.print);
      const [header, row] = out.lines.map((l) => l.split(/\s{2,}/));
      expect(header).toEqual(['NAME', 'REPLICAS', 'CPU(cores)', 'CPU%', 'MEMORY', 'MEMORY%', 'RPS', 'P95']);
      expect(row?.[0]).toBe('echo');
      expect(row?.[1]).toBe('2/2');
      expect(row?.[2]).toMatch(/^\d+m$/);
      expect(row?.[4]).toMatch(/^[\d.]+Mi$/);
      expect(row?.[6]).toBe('0');
    }, { timeoutMs: 20_000, intervalMs: 500 });
    // Per replica; a replica's CPU needs two readings, so a young one shows "-" for a sample.
    await eventually(async () => {
      const out = collectLines();
      await showTop(client, { app: 'echo', replicas: true }, out.print);
      expect(out.lines, out.text()).toHaveLength(3);
      for (const line of out.lines.slice(1)) expect(line).toMatch(/^echo\s+autoserve-\S+-echo-\S+\s+\d+m\s+\d+%\s+[\d.]+Mi\s+\d+%$/);
    }, { timeoutMs: 10_000, intervalMs: 500 });
  });

  it('a fixed app (no autoscaler) has its load in /metrics and in /apps/{name}/metrics, from the history', async () => {
    const base = `http://127.0.0.1:${t.daemon.apiPort}`;
    await eventually(async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toMatch(/^autoserve_app_requests_per_second\{app="echo"\} 0$/m);
      expect(text).toMatch(/^autoserve_app_cpu_utilization_ratio\{app="echo"\} \d/m);
      expect(text).toMatch(/^autoserve_app_memory_utilization_ratio\{app="echo"\} 0\.\d/m);
      const { current } = (await (await fetch(`${base}/apps/echo/metrics`)).json()) as { current: Record<string, number | null> | null };
      expect(current).toMatchObject({ requestsPerSecond: 0, p95LatencySeconds: null, cpuUtilizationRatio: expect.any(Number), memoryUtilizationRatio: expect.any(Number) });
    }, { timeoutMs: 10_000, intervalMs: 500 });
  });

  it('exits with the reason when the rollout halts (new revision never healthy)', async () => {
    const before = t.daemon.store.app('echo')?.containerRevision;
    await t.writeManifest('echo.yaml', echo({ version: 'v3', replicas: 2, failHealth: true }));
    await revisionMoved(before);
    const out = collectLines();
    const err = await rolloutStatus(client, 'echo', { timeoutMs: 60_000, intervalMs: 200 }, out.print).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe('RolloutFailed');
    expect((err as Error).message).toMatch(/^rollout of "echo" halted: RolloutFailed \(ProgressDeadlineExceeded\): /);
    expect(out.lines.every((l) => l.startsWith('Waiting for rollout'))).toBe(true);
    // The old revision keeps serving.
    expect(t.daemon.store.app('echo')?.replicas.ready).toBe(2);
  });
});

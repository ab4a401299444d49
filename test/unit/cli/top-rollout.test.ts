// `autoserve top` formatting and `autoserve rollout status` against a real API server whose store
// the test changes while the verb waits.
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../../src/cli/api-client.js';
import { CliError } from '../../../src/cli/cli-error.js';
import { rolloutStatus } from '../../../src/cli/commands/rollout-status.js';
import { formatTop } from '../../../src/cli/commands/top.js';
import { formatBytes, formatCores, formatMillis, formatPercent, formatRate } from '../../../src/cli/format.js';
import { collectLines } from '../../../src/cli/output.js';
import type { TopAnswer } from '../../../src/history/history-views.js';
import { startApiFixture, type ApiFixture } from '../api/api-fixture.js';

describe('units', () => {
  it.each([
    [formatCores(0.25), '250m'], [formatCores(1.5), '1.50'], [formatCores(null), '-'],
    [formatBytes(512), '512'], [formatBytes(12.3 * 1024 ** 2), '12Mi'], [formatBytes(1.5 * 1024 ** 3), '1.5Gi'], [formatBytes(undefined), '-'],
    [formatPercent(0.424), '42%'], [formatPercent(null), '-'],
    [formatRate(12.54), '12.5'], [formatRate(3), '3'], [formatRate(250.4), '250'],
    [formatMillis(85.2), '85ms'], [formatMillis(1234), '1.2s'], [formatMillis(null), '-'],
  ])('%s = %s', (got, want) => expect(got).toBe(want));
});

describe('top', () => {
  const answer: TopAnswer = {
    intervalSeconds: 5,
    points: 720,
    apps: [
      {
        name: 'web', time: '2024-05-01T12:00:00.000Z', rps: 45.25, p95Ms: 12, cpu: 0.24, cpuCores: 0.12, memory: 0.19, memoryBytes: 12 * 1024 ** 2, desired: 2, ready: 2,
        replicas: [
          { id: 'a', name: 'web-0', cpu: 0.3, cpuCores: 0.075, memory: 0.2, memoryBytes: 6 * 1024 ** 2 },
          { id: 'b', name: 'web-1', cpu: null, cpuCores: null, memory: 0.18, memoryBytes: 6 * 1024 ** 2 },
        ],
      },
      { name: 'new', time: null, rps: null, p95Ms: null, cpu: null, cpuCores: null, memory: null, memoryBytes: null, desired: null, ready: null, replicas: [] },
    ],
  };

  it('one row per app, "-" for what is not measured, a note for apps not sampled yet', () => {
    expect(formatTop(answer, false)).toEqual([
      'NAME   REPLICAS   CPU(cores)   CPU%   MEMORY   MEMORY%   RPS    P95',
      'web    2/2        120m         24%    12Mi     19%       45.3   12ms',
      'new    -          -            -      -        -         -      -',
      '(1 app(s) not sampled yet: one sample every 5s)',
    ]);
  });

  it('--replicas: one row per running replica', () => {
    expect(formatTop(answer, true).slice(0, 3)).toEqual([
      'APP   REPLICA   CPU(cores)   CPU%   MEMORY   MEMORY%',
      'web   web-0     75m          30%    6.0Mi    20%',
      'web   web-1     -            -      6.0Mi    18%',
    ]);
    expect(formatTop({ ...answer, apps: [] }, false)).toEqual(['No apps.']);
  });
});

describe('rollout status', () => {
  let f: ApiFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  const converging = (f: ApiFixture, ready: number) =>
    f.store.updateApp('web', (s) => {
      s.phase = ready === 2 ? 'Running' : 'Progressing';
      s.containerRevision = 'rev2';
      s.spec = { state: 'up' } as typeof s.spec;
      s.replicas = { desired: 2, ready, updated: 2 };
      s.instances = [0, 1].map((slot) => ({ id: `c${slot}`, name: `web-${slot}`, revision: 'rev2', slot, state: 'running', health: slot < ready ? 'ready' : 'starting', draining: false, startedAt: '' }));
    });

  it('prints progress as it changes and returns once every replica of the revision is ready', async () => {
    f = await startApiFixture();
    const client = new ApiClient({ server: f.base });
    const out = collectLines();
    const waiting = rolloutStatus(client, 'web', { timeoutMs: 10_000, intervalMs: 20 }, out.print);
    // Each state changes only once the command has printed the one before (no race with its polls).
    const printed = async (n: number) => {
      while (out.lines.length < n) await new Promise((r) => setTimeout(r, 10));
    };
    await printed(1);
    converging(f, 1);
    await printed(2);
    converging(f, 2);
    await waiting;
    expect(out.lines).toEqual([
      'Waiting for rollout of "web" to finish: the app is not known to the controller yet',
      'Waiting for rollout of "web" to finish: 1 of 2 updated replicas are ready (revision rev2)',
      'app "web" successfully rolled out: revision rev2, 2/2 replicas ready',
    ]);
  });

  it('fails with the reason when the rollout halts', async () => {
    f = await startApiFixture();
    converging(f, 1);
    f.store.updateApp('web', (s) => {
      s.conditions.push({ type: 'RolloutFailed', status: 'True', reason: 'ProgressDeadlineExceeded', message: 'rev2 not ready within 30s; rev1 keeps serving', lastTransitionTime: '' });
    });
    const err = await rolloutStatus(new ApiClient({ server: f.base }), 'web', { timeoutMs: 10_000, intervalMs: 20 }, collectLines().print).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe('RolloutFailed');
    expect((err as Error).message).toBe('rollout of "web" halted: RolloutFailed (ProgressDeadlineExceeded): rev2 not ready within 30s; rev1 keeps serving');
  });

  it('fails when the timeout passes, naming what it waited for', async () => {
    f = await startApiFixture();
    converging(f, 1);
    const err = await rolloutStatus(new ApiClient({ server: f.base }), 'web', { timeoutMs: 150, intervalMs: 20 }, collectLines().print).catch((e: unknown) => e);
    expect((err as CliError).code).toBe('Timeout');
    expect((err as Error).message).toMatch(/^timed out after 0s waiting for "web": 1 of 2 updated replicas are ready/);
  });
});

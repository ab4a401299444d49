// CLI formatting and the client's one-line errors, without a daemon.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../../../src/cli/api-client.js';
import { CliError } from '../../../src/cli/cli-error.js';
import { formatDescription } from '../../../src/cli/commands/describe.js';
import { formatAppsTable } from '../../../src/cli/commands/get.js';
import { formatLeadership } from '../../../src/cli/commands/leader.js';
import { formatPlan } from '../../../src/cli/commands/plan.js';
import { scaleApp } from '../../../src/cli/commands/scale.js';
import { downApp } from '../../../src/cli/commands/down.js';
import { formatAge, formatTable } from '../../../src/cli/format.js';
import { collectLines } from '../../../src/cli/output.js';
import { splitDocuments } from '../../../src/manifest/edit-manifest.js';
import type { AppStatus } from '../../../src/store/status-model.js';
import { appStatus } from '../../support/app-status.js';
import { appManifest } from '../../support/app-manifest.js';
import { freePort } from '../../support/free-port.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');

const app = appStatus;

describe('formatting', () => {
  it('aligns table columns without trailing spaces', () => {
    expect(formatTable(['A', 'BB'], [['xxx', 'y'], ['z', '']])).toEqual(['A     BB', 'xxx   y', 'z']);
  });

  it.each([
    ['2024-05-01T11:59:15Z', '45s'],
    ['2024-05-01T11:00:00Z', '60m'],
    ['2024-04-30T12:00:00Z', '24h'],
    ['2024-04-20T12:00:00Z', '11d'],
  ])('age of %s is %s', (iso, age) => {
    expect(formatAge(iso, NOW)).toBe(age);
  });

  it('get apps: NAME READY UP-TO-DATE PHASE IMAGE AGE, REVISION only when a source commit exists', () => {
    const plain = formatAppsTable([app('web')], false, NOW);
    expect(plain[0]!.split(/\s+/)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'PHASE', 'IMAGE', 'AGE']);
    expect(plain[1]!.split(/\s+/)).toEqual(['web', '1/2', '2', 'Running', '<none>', '60m']);
    const git = formatAppsTable([app('web', { revision: { commit: '0123456789abcdef', message: 'm', time: '' } }), app('api')], false, NOW);
    expect(git[0]!.split(/\s+/)).toContain('REVISION');
    expect(git[1]).toContain('0123456');
    expect(git[2]!.split(/\s+/)).toContain('-');
  });

  it('describe: each replica\'s address and network, its host port only when published, and a NODE column when replicas run on a cluster', () => {
    const instance = { id: 'abc', name: 'autoserve-web-r1-0', revision: 'r1', slot: 0, state: 'running', health: 'ready', draining: false, startedAt: '2024-05-01T11:00:00Z' };
    const header = (lines: string[]) => lines.find((l) => l.trim().startsWith('NAME'))!.trim().split(/\s{2,}/);
    const row = (lines: string[]) => lines.find((l) => l.includes('autoserve-web-r1-0'))!.trim().split(/\s+/);
    const onHost = formatDescription(app('web', { instances: [{ ...instance, address: '172.18.0.2:8080', network: 'autoserve', hostPort: 32768 }] }), [], [], NOW);
    expect(header(onHost)).toEqual(['NAME', 'STATE', 'HEALTH', 'REVISION', 'ADDRESS', 'NETWORK', 'HOST PORT', 'AGE', 'LAST CHECK']);
    expect(row(onHost).slice(4, 7)).toEqual(['172.18.0.2:8080', 'autoserve', '32768']);
    const onSwarm = formatDescription(app('web', { instances: [{ ...instance, address: '10.0.1.5:8080', network: 'autoserve-overlay', node: 'node-b' }] }), [], [], NOW);
    expect(header(onSwarm)).toEqual(['NAME', 'STATE', 'HEALTH', 'REVISION', 'ADDRESS', 'NETWORK', 'NODE', 'HOST PORT', 'AGE', 'LAST CHECK']);
    expect(row(onSwarm).slice(4, 8)).toEqual(['10.0.1.5:8080', 'autoserve-overlay', 'node-b', '-']);
  });

  it('leader: one line on one host; leader and this controller on a swarm', () => {
    expect(formatLeadership({ mode: 'single', identity: 'h:1:a', leading: true, leader: 'h:1:a', since: 't' })).toEqual(['single controller: it leads (runtime docker)']);
    expect(formatLeadership({ mode: 'lease', identity: 'b:2:x', leading: false, leader: 'a:1:y', since: 't' })).toEqual([
      'leader:          a:1:y',
      'this controller: b:2:x (standing by since t)',
    ]);
    expect(formatLeadership({ mode: 'lease', identity: 'b:2:x', leading: false, leader: '', since: 't' })[0]).toBe('leader:          nobody (the lease is free)');
  });

  it('plan: one line per action, or "no changes"', () => {
    expect(formatPlan({ apps: [{ app: 'web', desiredReplicas: 1, actions: [], converged: true }], errors: [], pruneBlocked: false, kept: [] })).toEqual(['no changes']);
    const lines = formatPlan({
      apps: [
        { app: 'web', revision: 'r1', desiredReplicas: 2, converged: false, actions: [{ kind: 'create', revision: 'r1', slot: 1, reason: 'scale up to 2' }] },
        { app: 'old', desiredReplicas: 0, converged: false, actions: [{ kind: 'remove', id: 'x', name: 'autoserve-old-r0-0', drain: true, reason: 'manifest removed' }] },
      ],
      errors: [],
      pruneBlocked: false,
      kept: [],
    });
    expect(lines.map((l) => l.split(/\s{2,}/))).toEqual([
      ['APP', 'ACTION', 'TARGET', 'REASON'],
      ['web', 'create', 'slot 1 @ r1', 'scale up to 2'],
      ['old', 'drain+remove', 'autoserve-old-r0-0', 'manifest removed'],
    ]);
  });
});

describe('api client', () => {
  it('a controller that is not running is one clear CliError', async () => {
    const port = await freePort();
    const client = new ApiClient({ server: `http://127.0.0.1:${port}` });
    const err = await client.get('/apps').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toBe(
      `cannot reach the controller at http://127.0.0.1:${port} (connection refused); is \`autoserve run\` running?`,
    );
  });
});

describe('manifest-editing verbs', () => {
  it('scale and down edit the file in place; an unknown app is a CliError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'autoserve-cli-'));
    try {
      await writeFile(join(dir, 'web.yaml'), appManifest('web'));
      const out = collectLines();
      await scaleApp(dir, 'web', 4, out.print);
      await downApp(dir, 'web', out.print);
      await downApp(dir, 'web', out.print);
      expect(out.lines[0]).toMatch(/^web: replicas set to 4 \(/);
      expect(out.lines[2]).toMatch(/^web: unchanged/);
      const text = await readFile(join(dir, 'web.yaml'), 'utf8');
      expect(text).toMatch(/replicas: 4/);
      expect(text).toMatch(/state: down/);
      await expect(scaleApp(dir, 'ghost', 1, out.print)).rejects.toThrow(CliError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('splitDocuments keeps every byte', () => {
    const text = 'a: 1\n---\nb: 2\n--- # c\nc: 3\n';
    const parts = splitDocuments(text);
    expect(parts).toHaveLength(3);
    expect(parts.map((p) => p.marker + p.body).join('')).toBe(text);
  });
});

// The status endpoint and the CLI against a running daemon and real containers: what `get`,
// `describe`, `events`, `logs` and `plan` print follows the truth as containers die and manifests
// change; the write API edits a manifest and the app follows.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, createApiServer, listen } from '../../../src/api/server.js';
import { ApiClient } from '../../../src/cli/api-client.js';
import { describeApp } from '../../../src/cli/commands/describe.js';
import { showEvents } from '../../../src/cli/commands/events.js';
import { getApps } from '../../../src/cli/commands/get.js';
import { showLogs } from '../../../src/cli/commands/logs.js';
import { showPlan } from '../../../src/cli/commands/plan.js';
import { collectLines } from '../../../src/cli/output.js';
import { AutoserveMetrics } from '../../../src/observe/metrics.js';
import { eventually } from '../../support/eventually.js';
import { freePort } from '../../support/free-port.js';
import { appManifest } from '../../support/app-manifest.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

const TOKEN = 'e2e-token';
const run = promisify(execFile);
// The api app prints a line at start so `logs` has something to show (httpd itself logs nothing).
const TALKER = '  command: ["/bin/busybox", "sh", "-c", "echo hello from $(hostname); exec /bin/busybox httpd -f -p 8080 -h /www"]';

describe('API + CLI end to end', () => {
  let t: TestDaemon;
  let client: ApiClient;

  beforeAll(async () => {
    t = await startTestDaemon('api-cli', { disableLb: true, authToken: TOKEN, enableWriteApi: true });
    client = new ApiClient({ server: `http://127.0.0.1:${t.daemon.apiPort}`, token: TOKEN });
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 2 }));
    await t.writeManifest('api.yaml', appManifest('api', { replicas: 1, spec: TALKER }));
    await eventually(() => {
      expect(t.daemon.store.app('web')?.phase).toBe('Running');
      expect(t.daemon.store.app('api')?.phase).toBe('Running');
    }, { timeoutMs: 60_000, intervalMs: 250 });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('get apps shows both apps ready', async () => {
    const out = collectLines();
    await getApps(client, 'table', out.print);
    const rows = out.lines.join('\n').split('\n').map((l) => l.split(/\s{2,}/));
    expect(rows[0]).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'PHASE', 'IMAGE', 'AGE']);
    expect(rows.slice(1).map((r) => r.slice(0, 5))).toEqual([
      ['api', '1/1', '1', 'Running', 'autoserve-demo:v1'],
      ['web', '2/2', '2', 'Running', 'autoserve-demo:v1'],
    ]);
    const json = collectLines();
    await getApps(client, 'json', json.print);
    expect(JSON.parse(json.text()).apps).toHaveLength(2);
  });

  it('describe shows conditions and healthy replicas', async () => {
    const out = collectLines();
    await describeApp(client, 'web', out.print);
    const text = out.text();
    expect(text).toMatch(/^Name:\s+web$/m);
    expect(text).toMatch(/Replicas:\s+2 desired \| 2 ready \| 2 up-to-date/);
    expect(text).toMatch(/^\s+Ready\s+True\s+ReplicasReady/m);
    expect(text.match(/^\s+autoserve-\S+-web-\S+\s+running\s+ready/gm)).toHaveLength(2);
    // Each replica with its address on AutoServe's network, the network, and no host port.
    expect(text).toMatch(/^\s+NAME\s+STATE\s+HEALTH\s+REVISION\s+ADDRESS\s+NETWORK\s+HOST PORT\s+AGE\s+LAST CHECK$/m);
    for (const replica of await t.running('web')) {
      expect(text).toMatch(new RegExp(`^\\s+${replica.name}\\s+running\\s+ready\\s+\\S+\\s+${replica.addresses[8080]!.host.replace(/\./g, '\\.')}:8080\\s+${replica.network}\\s+-\\s`, 'm'));
    }
    expect(text).toMatch(/^Network:\s+shared$/m);
    await expect(describeApp(client, 'ghost', collectLines().print)).rejects.toThrow('no app named "ghost"');
  });

  it('a killed replica shows up in events and get apps until it is replaced', async () => {
    const [victim] = await t.running('web');
    await run('docker', ['kill', victim!.id]);
    await eventually(async () => {
      const out = collectLines();
      await showEvents(client, { app: 'web' }, out.print);
      expect(out.text()).toMatch(/Removed\s+web\s+.*replica exited/);
    }, { timeoutMs: 30_000, intervalMs: 250 });
    await eventually(async () => {
      const out = collectLines();
      await getApps(client, 'table', out.print);
      expect(out.text()).toMatch(/^web\s+2\/2\s+2\s+Running/m);
      expect((await t.running('web')).map((c) => c.id)).not.toContain(victim!.id);
    }, { timeoutMs: 60_000, intervalMs: 250 });
  });

  it('events --watch prints new events as they happen', async () => {
    const out = collectLines();
    const stop = new AbortController();
    const watching = showEvents(client, { app: 'api', watch: true, intervalMs: 200, signal: stop.signal }, out.print);
    const before = out.lines.length;
    t.daemon.store.addEvent({ app: 'api', type: 'Normal', reason: 'WatchProbe', message: 'seen by the watcher' });
    await eventually(() => expect(out.lines.slice(before).join('\n')).toContain('WatchProbe'), { timeoutMs: 10_000 });
    stop.abort();
    await watching;
  });

  it('logs shows each replica line marked with its name; --follow sees a new replica', async () => {
    const out = collectLines();
    await eventually(async () => {
      out.lines.length = 0;
      await showLogs(client, 'api', { tail: 10 }, out.print);
      expect(out.lines).toEqual([expect.stringMatching(/^autoserve-\S+-api-\S+-0 \| hello from \w+$/)]);
    }, { timeoutMs: 20_000, intervalMs: 250 });

    const follow = collectLines();
    const stop = new AbortController();
    const following = showLogs(client, 'api', { tail: 10, follow: true, intervalMs: 250, signal: stop.signal }, follow.print);
    const res = await client.post<{ changed: boolean }>('/apps/api/scale', { replicas: 2 });
    expect(res.changed).toBe(true);
    await eventually(() => {
      const replicas = new Set(follow.lines.map((l) => l.split(' | ')[0]));
      expect(replicas.size).toBe(2);
    }, { timeoutMs: 60_000, intervalMs: 250 });
    stop.abort();
    await following;
  });

  it('the write API edits the manifest file and the app follows', async () => {
    const res = await client.post<{ file: string; spec: { replicas: number } }>('/apps/web/scale', { replicas: 1 });
    expect(res.file).toBe(join(t.manifestsDir, 'web.yaml'));
    expect(await readFile(res.file, 'utf8')).toMatch(/replicas: 1/);
    await eventually(async () => expect(await t.containers('web')).toHaveLength(1), { timeoutMs: 60_000, intervalMs: 250 });
    await eventually(() => expect(t.daemon.store.app('web')?.replicas).toMatchObject({ desired: 1, ready: 1 }), { timeoutMs: 30_000 });
    await client.post('/apps/web/down', {});
    await eventually(async () => expect(await t.containers('web')).toHaveLength(0), { timeoutMs: 60_000, intervalMs: 250 });
    await eventually(() => expect(t.daemon.store.app('web')?.phase).toBe('Stopped'), { timeoutMs: 30_000 });
    await client.post('/apps/web/up', {});
    await eventually(() => expect(t.daemon.store.app('web')?.phase).toBe('Running'), { timeoutMs: 60_000, intervalMs: 250 });
  });

  it('plan shows no changes for a converged host, and what would happen once manifests change', async () => {
    await eventually(() => expect(t.daemon.store.app('api')?.phase).toBe('Running'), { timeoutMs: 60_000, intervalMs: 250 });
    const options = { manifestsDir: t.manifestsDir, instance: t.options.instance, statePath: t.options.dbPath, runtime: t.daemon.runtime };
    const quiet = collectLines();
    await showPlan(options, quiet.print);
    expect(quiet.lines).toEqual(['no changes']);

    await t.stop(); // nobody acts on the change: the plan shows what the controller would do
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 3 }));
    await t.removeManifest('api.yaml');
    const out = collectLines();
    await showPlan(options, out.print);
    const rows = out.lines.slice(1).map((l) => l.split(/\s{2,}/));
    expect(out.lines[0]!.split(/\s+/)).toEqual(['APP', 'ACTION', 'TARGET', 'REASON']);
    expect(rows.filter((r) => r[0] === 'web' && r[1] === 'create')).toHaveLength(2);
    expect(rows.filter((r) => r[0] === 'api' && r[1] === 'drain+remove' && r[3] === 'manifest removed')).toHaveLength(2);
    expect(rows.every((r) => r[0] === 'web' ? r[3] === 'scale up to 3' : true)).toBe(true);
  });

  it('a real `autoserve get apps` with no controller prints one clear line and exits 1', async () => {
    if (!existsSync('dist/cli/commands/get.js')) await run('npm', ['run', 'build'], { timeout: 120_000 });
    const port = await freePort();
    const err = await run(process.execPath, ['dist/cli/main.js', 'get', 'apps', '--server', `http://127.0.0.1:${port}`]).catch((e: unknown) => e);
    const failed = err as { code: number; stderr: string; stdout: string };
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toBe(`autoserve: cannot reach the controller at http://127.0.0.1:${port} (connection refused); is \`autoserve run\` running?\n`);
  });
});

// Hostile manifests against a running daemon, real Docker (issue 11): a valueFrom of what the
// operator did not open fails that app alone; an opened secret reaches its container and no read
// endpoint, log or store; a manifest symlinked out of the directory is refused unread (its text, a
// token here, shows nowhere), so the write API finds nothing to edit there.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';
import { appManifest } from '../../support/app-manifest.js';

const TOKEN = `token-${randomBytes(8).toString('hex')}`;
const SECRET_FILE_VALUE = `file-secret-${randomBytes(8).toString('hex')}`;
const SECRET_ENV_VALUE = `env-secret-${randomBytes(8).toString('hex')}`;
const OPENED_VARIABLE = 'HOSTILE_E2E_OPENED';
const CLOSED_VARIABLE = 'HOSTILE_E2E_CLOSED';

describe('hostile manifests, end to end', () => {
  let t: TestDaemon;
  let outside: string;
  let secretsDir: string;
  const log: string[] = [];

  beforeAll(async () => {
    process.env[OPENED_VARIABLE] = SECRET_ENV_VALUE;
    process.env[CLOSED_VARIABLE] = `closed-${SECRET_ENV_VALUE}`;
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    secretsDir = await mkdtemp(join(tmpdir(), 'autoserve-e2e-secrets-'));
    await writeFile(join(secretsDir, 'db-password'), SECRET_FILE_VALUE, { mode: 0o600 });
    t = await startTestDaemon(
      'hostile',
      { disableLb: true, authToken: TOKEN, enableWriteApi: true, openEnv: [OPENED_VARIABLE], secretsDir, logLevel: 'debug' },
      { logStream },
    );
    const env = [
      '  env:',
      '    - name: DB_PASSWORD',
      '      valueFrom: { secret: db-password }',
      '    - name: API_KEY',
      `      valueFrom: { env: ${OPENED_VARIABLE} }`,
    ].join('\n');
    await t.writeManifest('good.yaml', appManifest('good', { spec: env }));
    await t.writeManifest('greedy.yaml', appManifest('greedy', { spec: `  env:\n    - name: STOLEN\n      valueFrom: { env: ${CLOSED_VARIABLE} }` }));
    await t.writeManifest('thief.yaml', appManifest('thief', { spec: '  env:\n    - name: STOLEN\n      valueFrom: { env: AUTOSERVE_AUTH_TOKEN }' }));
    // A file the controller (root) can read and the author cannot: the token file, say.
    outside = join(t.stateDir, '..', 'outside.yaml');
    await writeFile(outside, `${TOKEN}\n`, { mode: 0o600 });
    await symlink(outside, join(t.manifestsDir, 'linked.yaml'));
    await eventually(() => {
      expect(t.daemon.store.app('good')?.phase).toBe('Running');
      expect(t.daemon.store.events({}).some((e) => e.reason === 'ManifestInvalid' && /linked\.yaml.*outside the manifests directory/.test(e.message))).toBe(true);
      for (const app of ['greedy', 'thief']) {
        expect(t.daemon.store.app(app)?.conditions.find((c) => c.type === 'EnvValueMissing')?.status).toBe('True');
      }
    }, { timeoutMs: 60_000, intervalMs: 250 });
  });
  afterAll(async () => {
    delete process.env[OPENED_VARIABLE];
    delete process.env[CLOSED_VARIABLE];
    await t?.cleanup();
    if (secretsDir) await rm(secretsDir, { recursive: true, force: true });
  });

  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`http://127.0.0.1:${t.daemon.apiPort}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) },
    });
    return { status: res.status, text: await res.text() };
  };

  it('a valueFrom of a variable that is not opened is an error on that app only', async () => {
    for (const app of ['greedy', 'thief']) {
      expect(await t.containers(app)).toEqual([]);
      const status = t.daemon.store.app(app)!;
      expect(status.phase).toBe('Failed');
      expect(status.conditions.find((c) => c.type === 'EnvValueMissing')?.message).toMatch(/not opened to apps|AutoServe's own settings/);
    }
    expect(await t.running('good')).toHaveLength(1);
    expect(t.daemon.store.app('good')?.replicas.ready).toBe(1);
  });

  it('an opened secret reaches the container, and no read endpoint, log or store file', async () => {
    const [replica] = await t.running('good');
    const inspect = await t.env.docker.getContainer(replica!.id).inspect();
    expect(inspect.Config.Env).toEqual(expect.arrayContaining([`DB_PASSWORD=${SECRET_FILE_VALUE}`, `API_KEY=${SECRET_ENV_VALUE}`]));

    const reads = [
      '/healthz', '/readyz', '/apps', '/apps/good', '/apps/good/status', '/apps/good/metrics', '/apps/good/logs?tail=100',
      '/apps/greedy', '/apps/thief', '/events', '/events?app=good', '/metrics',
    ];
    for (const path of reads) {
      const { status, text } = await api(path);
      expect(status, path).toBe(200);
      for (const secret of [SECRET_FILE_VALUE, SECRET_ENV_VALUE, TOKEN]) expect(text, path).not.toContain(secret);
    }
    await t.daemon.store.flush();
    const store = await readFile(t.options.dbPath, 'utf8');
    const logs = log.join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [SECRET_FILE_VALUE, SECRET_ENV_VALUE, TOKEN]) {
      expect(store).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });

  it('the write API finds nothing to edit in a manifest symlinked from outside the directory', async () => {
    const before = await readFile(outside, 'utf8');
    const { status, text } = await api('/apps/linked/scale', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"replicas": 3}' });
    expect(status).toBe(404);
    expect(JSON.parse(text)).toMatchObject({ error: 'AppNotFound' });
    expect(await readFile(outside, 'utf8')).toBe(before);
    // An app in the directory is still edited.
    expect((await api('/apps/good/scale', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"replicas": 1}' })).status).toBe(202);
  });

  it('a second file declaring a running app\'s name does not freeze it: the holder keeps the name and its edits apply', async () => {
    await t.writeManifest('plain.yaml', appManifest('plain'));
    await eventually(() => expect(t.daemon.store.app('plain')?.phase).toBe('Running'), { timeoutMs: 60_000, intervalMs: 250 });
    await t.writeManifest('copycat.yaml', appManifest('plain', { image: 'autoserve-demo:v2', replicas: 3 }));
    await eventually(() => expect(t.daemon.store.events({}).some((e) => e.reason === 'ManifestInvalid' && /copycat\.yaml.*already declared in .*plain\.yaml/.test(e.message))).toBe(true), { timeoutMs: 30_000, intervalMs: 250 });
    await t.writeManifest('plain.yaml', appManifest('plain', { replicas: 2 }));
    await eventually(async () => {
      const running = await t.running('plain');
      expect(running).toHaveLength(2);
      expect(running.every((r) => r.image === 'autoserve-demo:v1')).toBe(true); // the holder's, not the copy's
      expect(t.daemon.store.app('plain')?.replicas.ready).toBe(2);
    }, { timeoutMs: 60_000, intervalMs: 250 });
  });
});

// Write calls edit manifest files in the watched directory (and nothing else), behind a token.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appManifest } from '../../support/app-manifest.js';
import { startApiFixture, type ApiFixture } from './api-fixture.js';

const TOKEN = 'write-token';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

describe('API write calls (--enable-write-api)', () => {
  let f: ApiFixture;
  const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
    f.request(path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const file = (name: string) => readFile(join(f.manifestsDir, name), 'utf8');

  beforeAll(async () => {
    f = await startApiFixture({ authToken: TOKEN, enableWriteApi: true });
    await mkdir(f.manifestsDir, { recursive: true });
    await writeFile(join(f.manifestsDir, 'web.yaml'), appManifest('web', { replicas: 1 }));
    // A multi-document file: the untouched document must stay byte for byte.
    const other = '# the other app, with a comment that must survive\n' + appManifest('other').replace('replicas: 1', 'replicas: 1 # keep me');
    await writeFile(join(f.manifestsDir, 'pair.yaml'), `${other}---\n${appManifest('second', { replicas: 2 })}`);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('needs the token', async () => {
    const r = await post('/apps/web/scale', { replicas: 3 }, { 'content-type': 'application/json' });
    expect(r.status).toBe(401);
  });

  it('POST /apps/{name}/scale sets spec.replicas in the file: 202', async () => {
    const r = await post('/apps/web/scale', { replicas: 3 });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ app: 'web', changed: true, spec: { replicas: 3 } });
    expect((load(await file('web.yaml')) as any).spec.replicas).toBe(3);
  });

  it('edits one document of a multi-document file and keeps the other as it was', async () => {
    const before = await file('pair.yaml');
    const r = await post('/apps/second/down', {});
    expect(r.status).toBe(202);
    const after = await file('pair.yaml');
    const firstDoc = before.split(/^---$/m)[0]!;
    expect(after.startsWith(firstDoc)).toBe(true);
    expect(after).toContain('# keep me');
    expect(after).toMatch(/state: down/);
    const up = await post('/apps/second/up', {});
    expect(up.body.spec.state).toBe('up');
  });

  it('an edit that changes nothing is reported unchanged', async () => {
    const r = await post('/apps/web/scale', { replicas: 3 });
    expect(r.status).toBe(202);
    expect(r.body.changed).toBe(false);
  });

  it('a bad body is 400, an unknown app 404', async () => {
    expect((await post('/apps/web/scale', { replicas: -1 })).status).toBe(400);
    expect((await post('/apps/web/scale', 'not json')).status).toBe(400);
    const missing = await post('/apps/ghost/scale', { replicas: 1 });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('AppNotFound');
  });

  it('an edit the validator rejects is 422 and leaves the file alone', async () => {
    const before = await file('web.yaml');
    const r = await post('/apps/web/policy', { policy: { mode: 'sometimes' } });
    // web has no scaling block: a policy cannot be set
    expect(r.status).toBe(409);
    expect(await file('web.yaml')).toBe(before);
    await writeFile(join(f.manifestsDir, 'auto.yaml'), appManifest('auto', { spec: '  scaling:\n    minReplicas: 1\n    maxReplicas: 3\n    policy:\n      mode: manual' }));
    const bad = await post('/apps/auto/policy', { policy: { mode: 'sometimes' } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0]).toMatchObject({ path: '/spec/scaling/policy/mode' });
    const good = await post('/apps/auto/policy', { policy: 'auto' });
    expect(good.status).toBe(202);
    expect(good.body.spec.scaling.policy.mode).toBe('auto');
  });

  it('POST /apps/register writes <name>.yaml and refuses an existing app', async () => {
    const manifest = load(appManifest('fresh', { replicas: 2 }));
    const r = await post('/apps/register', manifest);
    expect(r.status).toBe(201);
    expect(r.body.file).toBe(join(f.manifestsDir, 'fresh.yaml'));
    expect((load(await file('fresh.yaml')) as any).metadata.name).toBe('fresh');
    expect((await post('/apps/register', manifest)).status).toBe(409);
    // "second" lives in pair.yaml: no second.yaml may shadow it
    const dup = await post('/apps/register', load(appManifest('second')));
    expect(dup.status).toBe(409);
    expect(dup.body.message).toContain('pair.yaml');
    const invalid = await post('/apps/register', { apiVersion: 'v1', kind: 'App', metadata: { name: 'nope' }, spec: {} });
    expect(invalid.status).toBe(422);
    const names = await readdir(f.manifestsDir);
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]); // no temp file left behind
    expect(names).not.toContain('nope.yaml');
  });
});

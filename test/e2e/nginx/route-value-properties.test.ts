// Random strings for an app's name, host and pathPrefix either fail validation or render a config
// that the real nginx accepts (`nginx -t`) with the value printed intact. Nothing in between: no
// value that passes validation and then breaks, or silently changes, the rendered config.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRoute } from '../../../src/core/routes.js';
import { validateManifest } from '../../../src/manifest/validate-manifest.js';
import { defaultAppsConfPath, renderAppsConf, renderMainConf } from '../../../src/render/render-nginx-config.js';

const NGINX = '/usr/sbin/nginx';

/** Strings a hostile or careless author might write, biased towards the edges of the patterns. */
const near = (alphabet: string, maxLength: number) => fc.string({ unit: fc.constantFrom(...alphabet.split('')), maxLength });
const nameLike = fc.oneof(
  { arbitrary: fc.stringMatching(/^[a-z0-9][-a-z0-9]{0,40}$/), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 50 }), weight: 1 },
  { arbitrary: near('abcz09-.', 45), weight: 1 },
);
const hostLike = fc.oneof(
  { arbitrary: fc.domain().map((d) => d.toLowerCase()), weight: 3 },
  { arbitrary: fc.array(near('abz09-', 70), { minLength: 1, maxLength: 5 }).map((labels) => labels.join('.')), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 80 }), weight: 1 },
  { arbitrary: fc.constantFrom('localhost', 'autoserve-internal', '127.0.0.1', 'x.autoserve-internal', '_', '*.example.com', 'a..b', '-a.b'), weight: 1 },
);
const pathLike = fc.oneof(
  { arbitrary: fc.array(near('azAZ09._~-', 12), { maxLength: 5 }).map((segments) => `/${segments.join('/')}`), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((s) => `/${s}`), weight: 1 },
  { arbitrary: near('/.a', 12).map((s) => `/${s}`), weight: 1 },
  { arbitrary: fc.constantFrom('/', '//', '/a//b', '/./', '/../x', '/a/', '/~', '/$uri', '/a;b', '/{'), weight: 1 },
);

interface Candidate {
  name: string;
  host: string;
  pathPrefix: string;
}

const candidate = fc.record({ name: nameLike, host: hostLike, pathPrefix: pathLike });

function isValid(c: Candidate): boolean {
  const doc = {
    apiVersion: 'v1',
    kind: 'App',
    metadata: { name: c.name },
    spec: { type: 'http', image: 'x:1', ports: [{ containerPort: 80 }], ingress: { host: c.host, pathPrefix: c.pathPrefix } },
  };
  return validateManifest(doc).errors.length === 0;
}

describe('route values: rejected by validation, or accepted by nginx intact', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'autoserve-route-props-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('every validated name, host and pathPrefix renders a config nginx -t accepts', async () => {
    let batch = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(candidate, { minLength: 60, maxLength: 100 }), async (candidates) => {
        // One nginx -t per batch: unique names and host+path pairs, as the route table guarantees.
        const routes: AppRoute[] = [];
        const seen = new Set<string>();
        for (const c of candidates.filter(isValid)) {
          const key = `${c.host}\u0000${c.pathPrefix}`;
          if (seen.has(c.name) || seen.has(key)) continue;
          seen.add(c.name);
          seen.add(key);
          routes.push({ app: c.name, host: c.host, pathPrefix: c.pathPrefix, servers: [{ host: '127.0.0.1', port: 9 }] });
        }
        // A valid route every batch, so nginx is always asked about something.
        routes.push({ app: `probe-${batch}`, host: `probe-${batch}.localhost`, pathPrefix: '/', servers: [{ host: '127.0.0.1', port: 9 }] });
        accepted += routes.length;
        const prefix = path.join(dir, `b${batch++}`);
        await mkdir(path.join(prefix, 'conf'), { recursive: true });
        await mkdir(path.join(prefix, 'logs'), { recursive: true });
        await mkdir(path.join(prefix, 'temp'), { recursive: true });
        await mkdir(path.join(prefix, 'control'), { recursive: true, mode: 0o700 });
        const logsDir = path.join(prefix, 'logs');
        const rendered = {
          appsConf: renderAppsConf({ routes }, { listen: { host: '127.0.0.1', port: 18_080 }, logsDir, control: { socketPath: path.join(prefix, 'control', 'control.sock') } }).text,
          mainConf: renderMainConf({ prefixDir: prefix, logsDir, pidFile: path.join(prefix, 'nginx.pid'), appsConfPath: defaultAppsConfPath(prefix) }),
        };
        for (const route of routes) {
          expect(rendered.appsConf).toContain(`server_name "${route.host}";`);
          expect(rendered.appsConf).toContain(`location "${route.pathPrefix}" {`);
          expect(rendered.appsConf).toContain(`upstream as_${route.app} {`);
        }
        await writeFile(path.join(prefix, 'conf', 'nginx.conf'), rendered.mainConf);
        await writeFile(path.join(prefix, 'conf', 'apps.conf'), rendered.appsConf);
        const test = await execa(NGINX, ['-t', '-q', '-p', `${prefix}/`, '-c', path.join(prefix, 'conf', 'nginx.conf'), '-e', 'stderr'], { reject: false });
        expect(test.stderr, `nginx -t refused: ${routes.map((r) => JSON.stringify([r.app, r.host, r.pathPrefix])).join(' ')}`).toBe('');
        expect(test.exitCode).toBe(0);
      }),
      { numRuns: 15 },
    );
    expect(accepted).toBeGreaterThan(15 * 5); // the generators do reach valid values
  });
});

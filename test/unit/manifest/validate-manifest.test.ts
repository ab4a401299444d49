import { describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import { validateManifest } from '../../../src/manifest/validate-manifest.js';
import { applyDefaults } from '../../../src/manifest/defaults.js';
import { FULL_EXAMPLE, minimal } from './fixtures.js';

type Doc = Record<string, any>;

/** The scaling behavior every policy gets by default (Knative's panic, the stabilization windows). */
const BEHAVIOR_DEFAULTS = { scaleIn: { stabilizationSeconds: 60, recurringStabilizationSeconds: 300 }, panic: { windowSeconds: 6, thresholdPct: 200 } };

function withSpec(patch: (doc: Doc) => void, name = 'web'): Doc {
  const doc = minimal(name) as Doc;
  patch(doc);
  return doc;
}

describe('validateManifest', () => {
  it('accepts the seed example with every field, unchanged by defaults but for the fields it predates', () => {
    const raw = load(FULL_EXAMPLE) as Doc;
    const result = validateManifest(raw);
    expect(result.errors).toEqual([]);
    expect(result.app).toBe('my-app');
    const spec = result.manifest!.spec;
    const { behavior, ...policy } = spec.scaling!.policy;
    const { replaceAfterSeconds, ...health } = spec.health!;
    expect(behavior).toEqual(BEHAVIOR_DEFAULTS);
    expect(replaceAfterSeconds).toBe(60);
    expect({ ...result.manifest, spec: { ...spec, health, scaling: { ...spec.scaling, policy } } }).toEqual(raw);
  });

  it('applies every default', () => {
    const result = validateManifest(minimal('web'));
    expect(result.errors).toEqual([]);
    expect(result.manifest?.spec).toEqual({
      type: 'http',
      image: 'nginx:1.27',
      ports: [{ containerPort: 80, publish: false }],
      network: { isolated: false },
      replicas: 1,
      env: [],
      termination: { drainSeconds: 30, stopTimeoutSeconds: 10 },
      ingress: { host: 'web.localhost', pathPrefix: '/' },
      rollout: { maxSurge: 1, progressDeadlineSeconds: 120 },
      state: 'up',
    });
  });

  it('applies nested defaults inside optional blocks', () => {
    const m = applyDefaults(withSpec((d) => {
      d.spec.health = { httpGet: { path: '/healthz', port: 80 } };
      d.spec.scaling = { policy: { http: { targetRPSPerReplica: 10 } } };
      d.spec.ingress = { host: 'a.example.com' };
    }));
    expect(m.spec.health).toEqual({
      httpGet: { path: '/healthz', port: 80 }, intervalSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1, replaceAfterSeconds: 60,
    });
    expect(m.spec.scaling).toEqual({
      minReplicas: 1, maxReplicas: 10,
      policy: { mode: 'auto', cooldownSeconds: 30, behavior: BEHAVIOR_DEFAULTS, http: { targetRPSPerReplica: 10, scaleOutThresholdPct: 80, scaleInThresholdPct: 30, windowSeconds: 20 } },
    });
    expect(m.spec.ingress).toEqual({ host: 'a.example.com', pathPrefix: '/' });
  });

  it('does not mutate its input', () => {
    const raw = minimal('web');
    const copy = structuredClone(raw);
    validateManifest(raw);
    applyDefaults(raw);
    expect(raw).toEqual(copy);
  });

  it('applyDefaults throws on an invalid manifest', () => {
    expect(() => applyDefaults({ kind: 'App' })).toThrow(/invalid App manifest/);
  });

  const long = (n: number) => 'a'.repeat(n);
  const rejections: [string, Doc, string, RegExp?][] = [
    ['unknown top-level key', { ...minimal(), extra: 1 }, '/extra', /unknown field "extra"/],
    ['typo in spec', withSpec((d) => { d.spec.replica = 2; }), '/spec/replica', /did you mean "replicas"/],
    ['typo in nested block', withSpec((d) => { d.spec.termination = { drainSecond: 3 }; }), '/spec/termination/drainSecond'],
    ['wrong apiVersion', { ...minimal(), apiVersion: 'v2' }, '/apiVersion', /must be "v1"/],
    ['missing image', withSpec((d) => { delete d.spec.image; }), '/spec/image', /is required/],
    ['port 0', withSpec((d) => { d.spec.ports = [{ containerPort: 0 }]; }), '/spec/ports/0/containerPort', />= 1/],
    ['port 70000', withSpec((d) => { d.spec.ports = [{ containerPort: 70000 }]; }), '/spec/ports/0/containerPort'],
    ['port as string', withSpec((d) => { d.spec.ports = [{ containerPort: '80' }]; }), '/spec/ports/0/containerPort', /integer/],
    ['no ports', withSpec((d) => { d.spec.ports = []; }), '/spec/ports'],
    ['nine ports', withSpec((d) => { d.spec.ports = Array.from({ length: 9 }, (_, i) => ({ containerPort: 80 + i })); }), '/spec/ports'],
    ['duplicate port', withSpec((d) => { d.spec.ports = [{ containerPort: 80 }, { containerPort: 80 }]; }), '/spec/ports/1/containerPort', /duplicate/],
    ['hostIP without publish', withSpec((d) => { d.spec.ports = [{ containerPort: 80, hostIP: '127.0.0.1' }]; }), '/spec/ports/0/hostIP', /only with publish: true/],
    ['hostIP not an IPv4 address', withSpec((d) => { d.spec.ports = [{ containerPort: 80, publish: true, hostIP: 'localhost' }]; }), '/spec/ports/0/hostIP', /dotted-quad IPv4/],
    ['hostIP not canonical', withSpec((d) => { d.spec.ports = [{ containerPort: 80, publish: true, hostIP: '127.000.0.1' }]; }), '/spec/ports/0/hostIP', /dotted-quad IPv4/],
    ['publish not a boolean', withSpec((d) => { d.spec.ports = [{ containerPort: 80, publish: 'yes' }]; }), '/spec/ports/0/publish', /boolean/],
    ['network typo', withSpec((d) => { d.spec.network = { isolate: true }; }), '/spec/network/isolate', /did you mean "isolated"/],
    ['bad memory', withSpec((d) => { d.spec.resources = { memory: '512MB' }; }), '/spec/resources/memory', /memory quantity/],
    ['memory as number', withSpec((d) => { d.spec.resources = { memory: 512 }; }), '/spec/resources/memory', /must be a string, got a number 512/],
    ['zero cpu', withSpec((d) => { d.spec.resources = { cpu: 0 }; }), '/spec/resources/cpu'],
    ['uppercase name', minimal('MyApp'), '/metadata/name', /DNS label/],
    ['underscore name', minimal('my_app'), '/metadata/name', /DNS label/],
    ['name ending in dash', minimal('web-'), '/metadata/name'],
    ['41-char name', minimal(long(41)), '/metadata/name', /at most 40/],
    ['reserved label key', { ...minimal(), metadata: { name: 'web', labels: { 'autoserve.managed': 'false' } } }, '/metadata/labels/autoserve.managed', /reserved/],
    ['label value with space', { ...minimal(), metadata: { name: 'web', labels: { team: 'a b' } } }, '/metadata/labels/team'],
    ['bad image', withSpec((d) => { d.spec.image = 'nginx; rm -rf /'; }), '/spec/image', /image reference/],
    ['env with value and valueFrom', withSpec((d) => { d.spec.env = [{ name: 'A', value: 'x', valueFrom: 'sdk' }]; }), '/spec/env/0', /exactly one/],
    ['env with neither', withSpec((d) => { d.spec.env = [{ name: 'A' }]; }), '/spec/env/0', /value or valueFrom/],
    ['env bad valueFrom', withSpec((d) => { d.spec.env = [{ name: 'A', valueFrom: 'vault' }]; }), '/spec/env/0/valueFrom', /"env", "sdk"/],
    ['env bad valueFrom.env', withSpec((d) => { d.spec.env = [{ name: 'A', valueFrom: { env: 'X-Y' } }]; }), '/spec/env/0/valueFrom/env'],
    ['env valueFrom secret with a path', withSpec((d) => { d.spec.env = [{ name: 'A', valueFrom: { secret: '../etc/shadow' } }]; }), '/spec/env/0/valueFrom/secret', /secret file name/],
    ['env valueFrom env and secret', withSpec((d) => { d.spec.env = [{ name: 'A', valueFrom: { env: 'X', secret: 'y' } }]; }), '/spec/env/0/valueFrom', /\{secret: NAME\}/],
    ['env numeric value', withSpec((d) => { d.spec.env = [{ name: 'PORT', value: 8080 }]; }), '/spec/env/0/value', /^must be a string, got a number; quote it in YAML$/],
    ['env value with a NUL byte', withSpec((d) => { d.spec.env = [{ name: 'A', value: 'a\u0000b' }]; }), '/spec/env/0/value', /NUL/],
    ['env bad name', withSpec((d) => { d.spec.env = [{ name: '1A', value: 'x' }]; }), '/spec/env/0/name'],
    ['env duplicate name', withSpec((d) => { d.spec.env = [{ name: 'A', value: 'x' }, { name: 'A', value: 'y' }]; }), '/spec/env/1/name', /duplicate env name "A"/],
    ['health port not declared', withSpec((d) => { d.spec.health = { httpGet: { path: '/h', port: 9090 } }; }), '/spec/health/httpGet/port', /declared containerPorts \(80\)/],
    ['health path without slash', withSpec((d) => { d.spec.health = { httpGet: { path: 'h', port: 80 } }; }), '/spec/health/httpGet/path'],
    ['health path with space', withSpec((d) => { d.spec.health = { httpGet: { path: '/h z', port: 80 } }; }), '/spec/health/httpGet/path'],
    ['minReplicas > maxReplicas', withSpec((d) => { d.spec.scaling = { minReplicas: 5, maxReplicas: 2 }; }), '/spec/scaling/minReplicas', /<= maxReplicas \(2\)/],
    ['minReplicas > default max', withSpec((d) => { d.spec.scaling = { minReplicas: 20 }; }), '/spec/scaling/minReplicas'],
    ['scaleIn >= scaleOut', withSpec((d) => { d.spec.scaling = { policy: { http: { targetRPSPerReplica: 5, scaleInThresholdPct: 80, scaleOutThresholdPct: 50 } } }; }), '/spec/scaling/policy/http/scaleInThresholdPct'],
    ['recurring stabilization shorter than the plain one', withSpec((d) => { d.spec.scaling = { policy: { behavior: { scaleIn: { stabilizationSeconds: 120, recurringStabilizationSeconds: 60 } } } }; }), '/spec/scaling/policy/behavior/scaleIn/recurringStabilizationSeconds', /must be >= stabilizationSeconds \(120\), got 60/],
    ['recurring stabilization shorter than the default plain one', withSpec((d) => { d.spec.scaling = { policy: { behavior: { scaleIn: { recurringStabilizationSeconds: 30 } } } }; }), '/spec/scaling/policy/behavior/scaleIn/recurringStabilizationSeconds', /must be >= stabilizationSeconds \(60\)/],
    ['panic threshold at or under 100 %', withSpec((d) => { d.spec.scaling = { policy: { behavior: { panic: { thresholdPct: 100 } } } }; }), '/spec/scaling/policy/behavior/panic/thresholdPct'],
    ['http policy without target', withSpec((d) => { d.spec.scaling = { policy: { http: {} } }; }), '/spec/scaling/policy/http', /targetRPSPerReplica/],
    ['bad mode', withSpec((d) => { d.spec.scaling = { policy: { mode: 'magic' } }; }), '/spec/scaling/policy/mode', /"auto", "manual"/],
    ['cpu policy without target', withSpec((d) => { d.spec.scaling = { policy: { cpu: {} } }; }), '/spec/scaling/policy/cpu/targetUtilizationPct'],
    ['replicas 101', withSpec((d) => { d.spec.replicas = 101; }), '/spec/replicas'],
    ['replicas 1.5', withSpec((d) => { d.spec.replicas = 1.5; }), '/spec/replicas'],
    ['bad state', withSpec((d) => { d.spec.state = 'off'; }), '/spec/state'],
    ['bad type', withSpec((d) => { d.spec.type = 'tcp'; }), '/spec/type'],
    ['stopTimeout 0', withSpec((d) => { d.spec.termination = { stopTimeoutSeconds: 0 }; }), '/spec/termination/stopTimeoutSeconds'],
    ['progressDeadline 1', withSpec((d) => { d.spec.rollout = { progressDeadlineSeconds: 1 }; }), '/spec/rollout/progressDeadlineSeconds'],
    ['empty command', withSpec((d) => { d.spec.command = []; }), '/spec/command'],
    ['command not strings', withSpec((d) => { d.spec.command = ['run', 3]; }), '/spec/command/1'],
    ['metadata typo', { ...minimal(), metadata: { name: 'web', lables: {} } }, '/metadata/lables', /did you mean "labels"/],
    // What nginx or Docker would refuse later, said at validate time (issue 11, items 1-3).
    ['host label of 64', withSpec((d) => { d.spec.ingress = { host: `${long(64)}.example.com` }; }), '/spec/ingress/host', /63/],
    ['empty path segment', withSpec((d) => { d.spec.ingress = { pathPrefix: '/api//v1' }; }), '/spec/ingress/pathPrefix', /empty segment/],
    ['dot-dot path segment', withSpec((d) => { d.spec.ingress = { pathPrefix: '/api/../admin' }; }), '/spec/ingress/pathPrefix', /"\.\."/],
    ['host autoserve-internal', withSpec((d) => { d.spec.ingress = { host: 'autoserve-internal' }; }), '/spec/ingress/host', /reserved/],
    ['host localhost', withSpec((d) => { d.spec.ingress = { host: 'localhost' }; }), '/spec/ingress/host', /reserved/],
    ['host 127.0.0.1', withSpec((d) => { d.spec.ingress = { host: '127.0.0.1' }; }), '/spec/ingress/host', /reserved/],
    ['host 127.3.2.1', withSpec((d) => { d.spec.ingress = { host: '127.3.2.1' }; }), '/spec/ingress/host', /reserved/],
    ['host 0.0.0.0', withSpec((d) => { d.spec.ingress = { host: '0.0.0.0' }; }), '/spec/ingress/host', /reserved/],
    ['host under autoserve-internal', withSpec((d) => { d.spec.ingress = { host: 'x.autoserve-internal' }; }), '/spec/ingress/host', /reserved/],
    ['cpu that rounds to zero', withSpec((d) => { d.spec.resources = { cpu: 1e-12 }; }), '/spec/resources/cpu', /0\.01/],
    ['cpu under Docker minimum', withSpec((d) => { d.spec.resources = { cpu: 0.001 }; }), '/spec/resources/cpu', /0\.01/],
    ['memory "0"', withSpec((d) => { d.spec.resources = { memory: '0' }; }), '/spec/resources/memory', /6Mi/],
    ['memory "1"', withSpec((d) => { d.spec.resources = { memory: '1' }; }), '/spec/resources/memory', /6Mi/],
    ['memory "0.4"', withSpec((d) => { d.spec.resources = { memory: '0.4' }; }), '/spec/resources/memory', /6Mi/],
    ['memory 5Mi', withSpec((d) => { d.spec.resources = { memory: '5Mi' }; }), '/spec/resources/memory', /6Mi/],
    ['memory past a safe integer', withSpec((d) => { d.spec.resources = { memory: '99999999999999999999Gi' }; }), '/spec/resources/memory', /at most/],
    // Swarm placement: constraints are Swarm's syntax, nothing that could say more.
    ['constraint with a shell tail', withSpec((d) => { d.spec.placement = { constraints: ['node.role==worker; rm -rf /'] }; }), '/spec/placement/constraints/0', /placement constraint/],
    ['constraint on an unknown attribute', withSpec((d) => { d.spec.placement = { constraints: ['node.secret==x'] }; }), '/spec/placement/constraints/0', /node\.id, node\.hostname/],
    ['constraint without an operator', withSpec((d) => { d.spec.placement = { constraints: ['node.labels.zone'] }; }), '/spec/placement/constraints/0'],
    ['seventeen constraints', withSpec((d) => { d.spec.placement = { constraints: Array.from({ length: 17 }, (_, i) => `node.labels.k${i}==v`) }; }), '/spec/placement/constraints'],
    ['unknown spread', withSpec((d) => { d.spec.placement = { spread: 'zone' }; }), '/spec/placement/spread', /"node", "none"/],
    ['placement typo', withSpec((d) => { d.spec.placement = { constraint: [] }; }), '/spec/placement/constraint', /did you mean "constraints"/],
  ];

  it.each([
    ['a host of 63-character labels', { host: `${long(63)}.${long(63)}.example.com` }],
    ['a <name>.localhost host', { host: 'web.localhost' }],
    ['a prefix with a trailing slash', { pathPrefix: '/api/' }],
    ['a prefix with dots inside a segment', { pathPrefix: '/v1.2/a..b' }],
  ])('accepts %s', (_label, ingress) => {
    expect(validateManifest(withSpec((d) => { d.spec.ingress = ingress; })).errors).toEqual([]);
  });

  it('accepts a valueFrom secret, and says nothing about the env branch', () => {
    expect(validateManifest(withSpec((d) => { d.spec.env = [{ name: 'A', valueFrom: { secret: 'db-password' } }]; })).errors).toEqual([]);
  });

  it('accepts Swarm placement constraints and a spread', () => {
    const placement = { constraints: ['node.role==worker', 'node.labels.zone != b', 'engine.labels.disk==ssd', 'node.hostname==node-1.example'], spread: 'none' };
    const result = validateManifest(withSpec((d) => { d.spec.placement = placement; }));
    expect(result.errors).toEqual([]);
    expect(result.manifest?.spec.placement).toEqual(placement);
    expect(validateManifest(minimal()).manifest?.spec.placement).toBeUndefined(); // no default: revisions stay
  });

  it('accepts Docker\'s minimum cpu and memory', () => {
    expect(validateManifest(withSpec((d) => { d.spec.resources = { cpu: 0.01, memory: '6Mi' }; })).errors).toEqual([]);
  });

  it.each(rejections)('rejects %s at its path', (_label, doc, path, message) => {
    const result = validateManifest(doc);
    expect(result.manifest).toBeUndefined();
    const error = result.errors.find((e) => e.path === path);
    expect(error, JSON.stringify(result.errors)).toBeDefined();
    if (message) expect(error?.message).toMatch(message);
  });

  const hostile = [';', '}', '{', '"', "'", '\n', '$', ' ', '\\', '#', '`', '*'];
  it.each(hostile)('rejects ingress host and pathPrefix containing %j', (bad) => {
    const host = validateManifest(withSpec((d) => { d.spec.ingress = { host: `a${bad}b.example.com` }; }));
    expect(host.errors.map((e) => e.path)).toContain('/spec/ingress/host');
    const prefix = validateManifest(withSpec((d) => { d.spec.ingress = { pathPrefix: `/a${bad}b` }; }));
    expect(prefix.errors.map((e) => e.path)).toContain('/spec/ingress/pathPrefix');
  });

  it('rejects hostile long, wildcard and uppercase hosts and long paths', () => {
    const cases: [Doc['spec']['ingress'], string][] = [
      [{ host: `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.example.com` }, '/spec/ingress/host'],
      [{ host: '*.example.com' }, '/spec/ingress/host'],
      [{ host: 'App.example.com' }, '/spec/ingress/host'],
      [{ host: 'example.com:8080' }, '/spec/ingress/host'],
      [{ host: 'example.com.' }, '/spec/ingress/host'],
      [{ host: '' }, '/spec/ingress/host'],
      [{ pathPrefix: `/${'a'.repeat(200)}` }, '/spec/ingress/pathPrefix'],
      [{ pathPrefix: 'api' }, '/spec/ingress/pathPrefix'],
    ];
    for (const [ingress, path] of cases) {
      const result = validateManifest(withSpec((d) => { d.spec.ingress = ingress; }));
      expect(result.errors.map((e) => e.path), JSON.stringify(ingress)).toContain(path);
    }
  });

  it('quotes hostile values in messages, cut short', () => {
    const result = validateManifest(withSpec((d) => { d.spec.image = `x\n${'y'.repeat(500)}`; }));
    const message = result.errors.find((e) => e.path === '/spec/image')?.message ?? '';
    expect(message).not.toContain('\n');
    expect(message.length).toBeLessThan(200);
  });

  it('reports every error of a document, not just the first', () => {
    const result = validateManifest(withSpec((d) => {
      d.spec.replica = 2;
      d.spec.ports = [{ containerPort: 0 }];
      d.spec.resources = { memory: 'lots' };
    }));
    expect(result.errors.map((e) => e.path).sort()).toEqual(['/spec/ports/0/containerPort', '/spec/replica', '/spec/resources/memory']);
  });

  it('rejects unknown kinds with one error at /kind and keeps the app name', () => {
    const result = validateManifest({ ...minimal('web'), kind: 'Deployment' });
    expect(result.errors).toEqual([{ path: '/kind', message: 'unknown kind "Deployment" (expected "App")' }]);
    expect(result.app).toBe('web');
  });

  it('rejects a document that is not a mapping', () => {
    expect(validateManifest('hello').errors[0]?.path).toBe('');
    expect(validateManifest([1, 2]).errors[0]?.message).toMatch(/mapping/);
  });
});

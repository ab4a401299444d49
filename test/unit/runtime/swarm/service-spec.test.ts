// The service of one replica: name and labels as on one host, resources as limits and
// reservations, placement, no VIP, no published port, created with no task.
import { describe, expect, it } from 'vitest';
import { UnsupportedByRuntimeError } from '../../../../src/errors.js';
import { MAX_SERVICE_NAME, RESTART_POLICY, placementOf, portsOf, serviceName, serviceSpecOf } from '../../../../src/runtime/swarm/service-spec.js';
import type { ReplicaRequest } from '../../../../src/runtime/runtime.js';

const request = (over: Partial<ReplicaRequest['shape']> = {}): ReplicaRequest => ({
  instance: 'default',
  app: 'web',
  revision: 'abc1234567',
  slot: 2,
  shape: { image: 'img:v1', env: { A: '1' }, ports: [8080, 9090], network: 'shared', ...over },
  stopTimeoutSeconds: 7,
  labels: { 'autoserve.test': 't1' },
});

describe('serviceSpecOf', () => {
  it('names and labels the service and its containers like a container on one host', () => {
    const spec = serviceSpecOf(request(), 'autoserve-overlay');
    expect(spec.Name).toBe('autoserve-web-abc1234567-2');
    const labels = {
      'autoserve.test': 't1',
      'autoserve.managed': 'true',
      'autoserve.instance': 'default',
      'autoserve.app': 'web',
      'autoserve.revision': 'abc1234567',
      'autoserve.slot': '2',
      'autoserve.ports': '8080,9090',
      'autoserve.placement': '{"constraints":[],"spread":"node"}',
    };
    expect(spec.Labels).toEqual(labels);
    expect(spec.TaskTemplate.ContainerSpec).toEqual({ Image: 'img:v1', Labels: labels, Env: ['A=1'], Init: true, StopGracePeriod: 7e9 });
    expect(portsOf(spec.Labels)).toEqual([8080, 9090]);
  });

  it('starts with no task, on the overlay, without a virtual IP, restarting at once but not forever', () => {
    const spec = serviceSpecOf(request(), 'autoserve-overlay');
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 0 } });
    expect(spec.EndpointSpec).toEqual({ Mode: 'dnsrr' });
    expect(spec.TaskTemplate.Networks).toEqual([{ Target: 'autoserve-overlay' }]);
    expect(spec.TaskTemplate.RestartPolicy).toEqual(RESTART_POLICY);
    expect(RESTART_POLICY).toMatchObject({ Condition: 'any', Delay: 0 });
    expect(RESTART_POLICY.MaxAttempts).toBeGreaterThan(0);
  });

  it('command replaces the entrypoint without the image CMD; resources are limits and reservations', () => {
    const spec = serviceSpecOf(request({ command: ['/bin/app', '--x'], resources: { cpu: 0.5, memory: '64Mi' } }), 'net');
    expect(spec.TaskTemplate.ContainerSpec).toMatchObject({ Command: ['/bin/app', '--x'], Args: [] });
    const amounts = { NanoCPUs: 5e8, MemoryBytes: 64 * 1024 ** 2 };
    expect(spec.TaskTemplate.Resources).toEqual({ Limits: amounts, Reservations: amounts });
  });

  it('placement: the manifest\'s constraints, kept in a label with the spread for each start', () => {
    expect(serviceSpecOf(request(), 'net').TaskTemplate.Placement).toEqual({});
    const spec = serviceSpecOf(request({ placement: { constraints: ['node.labels.zone==a'], spread: 'none' } }), 'net');
    expect(spec.TaskTemplate.Placement).toEqual({ Constraints: ['node.labels.zone==a'] });
    expect(placementOf(spec.Labels)).toEqual({ constraints: ['node.labels.zone==a'], spread: 'none' });
    expect(placementOf(serviceSpecOf(request(), 'net').Labels)).toEqual({ constraints: [], spread: 'node' });
    expect(placementOf({ 'autoserve.placement': 'not json' })).toEqual({ constraints: [], spread: 'node' });
    expect(placementOf(undefined)).toEqual({ constraints: [], spread: 'node' });
  });

  it('refuses a published port or a network of the app\'s own, naming the field (nothing is created)', () => {
    expect(() => serviceSpecOf(request({ publish: [{ containerPort: 8080, hostIp: '127.0.0.1' }] }), 'net')).toThrow(UnsupportedByRuntimeError);
    expect(() => serviceSpecOf(request({ publish: [{ containerPort: 8080, hostIp: '127.0.0.1' }] }), 'net')).toThrow(/spec\.ports\[\]\.publish/);
    expect(() => serviceSpecOf(request({ network: 'isolated' }), 'net')).toThrow(/spec\.network\.isolated is not supported with --runtime swarm/);
    expect(new UnsupportedByRuntimeError('swarm', 'f', 'w').kind).toBe('stalled');
  });

  it('portsOf ignores what is not a port', () => {
    expect(portsOf({ 'autoserve.ports': '80,x,,0,443' })).toEqual([80, 443]);
    expect(portsOf(undefined)).toEqual([]);
  });
});

describe('serviceName', () => {
  it('keeps a name that fits, and cuts a longer one to 63 characters ending in a hash of the whole', () => {
    expect(serviceName('autoserve-web-0123456789-0')).toBe('autoserve-web-0123456789-0');
    const long = `autoserve-prod-${'a'.repeat(40)}-0123456789-10`;
    const cut = serviceName(long);
    expect(cut.length).toBeLessThanOrEqual(MAX_SERVICE_NAME);
    expect(cut).toMatch(/^autoserve-prod-a+-[0-9a-f]{10}$/);
    expect(serviceName(long)).toBe(cut); // deterministic
    expect(serviceName(long.replace(/10$/, '11'))).not.toBe(cut); // another slot, another name
  });
});

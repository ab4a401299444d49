import type Docker from 'dockerode';
import { containerName, replicaLabels } from '../../core/labels.js';
import { parseMemoryBytes } from '../../core/memory-quantity.js';
import type { ReplicaRequest } from '../runtime.js';
import { networkOf } from './networks.js';

/**
 * The Docker create options of one replica. It joins its network (shared or the app's own) and
 * nothing else; a port is published only when the shape asks, on its host IP with a host port
 * Docker picks. `Init` gives PID 1 a signal handler so SIGTERM stops servers that ignore it.
 */
export function containerCreateOptions(request: ReplicaRequest): Docker.ContainerCreateOptions {
  const { shape } = request;
  const network = networkOf(request.instance, request.app, shape.network).name;
  const exposed: Record<string, object> = {};
  for (const port of shape.ports) exposed[`${port}/tcp`] = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of shape.publish ?? []) bindings[`${p.containerPort}/tcp`] = [{ HostIp: p.hostIp, HostPort: '' }];
  const resources = shape.resources ?? {};
  return {
    name: containerName(request.instance, request.app, request.revision, request.slot),
    Image: shape.image,
    // `command` overrides the entrypoint; the image's CMD is then not appended (Docker's merge rule).
    ...(shape.command ? { Entrypoint: shape.command, Cmd: [] } : {}),
    Env: Object.entries(shape.env).map(([name, value]) => `${name}=${value}`),
    Labels: { ...request.labels, ...replicaLabels(request) },
    ExposedPorts: exposed,
    StopTimeout: request.stopTimeoutSeconds,
    HostConfig: {
      NetworkMode: network,
      PortBindings: bindings,
      Init: true,
      RestartPolicy: { Name: 'no' }, // the controller replaces dead replicas itself
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
      ...(resources.cpu !== undefined ? { NanoCpus: Math.round(resources.cpu * 1e9) } : {}),
      ...(resources.memory !== undefined ? { Memory: parseMemoryBytes(resources.memory) } : {}),
    },
    NetworkingConfig: { EndpointsConfig: { [network]: {} } },
  };
}

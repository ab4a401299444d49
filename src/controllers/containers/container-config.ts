import type Docker from 'dockerode';
import type { AppSpec } from '../../manifest/types.js';
import { LABEL_APP, LABEL_INSTANCE, LABEL_MANAGED, LABEL_REVISION, LABEL_SLOT, containerName } from './labels.js';
import { parseMemoryBytes } from '../../manifest/memory-quantity.js';
import type { ContainerShape } from './revision.js';

export function containerShapeOf(spec: AppSpec, env: Record<string, string>): ContainerShape {
  return {
    image: spec.image,
    command: spec.command,
    env,
    resources: spec.resources,
    ports: spec.ports.map((p) => p.containerPort),
  };
}

export interface ReplicaIdentity {
  instance: string;
  app: string;
  revision: string;
  slot: number;
  /** Extra labels (tests mark what they start). */
  labels?: Record<string, string>;
}

/**
 * The Docker create options of one replica. Ports are published on 127.0.0.1 only, with a host port
 * Docker picks; `Init` gives PID 1 a signal handler so SIGTERM stops servers that ignore it.
 */
export function containerCreateOptions(
  shape: ContainerShape,
  identity: ReplicaIdentity,
  stopTimeoutSeconds: number,
): Docker.ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of shape.ports) {
    exposed[`${port}/tcp`] = {};
    bindings[`${port}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: '' }];
  }
  const resources = shape.resources ?? {};
  return {
    name: containerName(identity.instance, identity.app, identity.revision, identity.slot),
    Image: shape.image,
    // `command` overrides the entrypoint; the image's CMD is then not appended (Docker's merge rule).
    ...(shape.command ? { Entrypoint: shape.command, Cmd: [] } : {}),
    Env: Object.entries(shape.env).map(([name, value]) => `${name}=${value}`),
    Labels: {
      ...identity.labels,
      [LABEL_MANAGED]: 'true',
      [LABEL_INSTANCE]: identity.instance,
      [LABEL_APP]: identity.app,
      [LABEL_REVISION]: identity.revision,
      [LABEL_SLOT]: String(identity.slot),
    },
    ExposedPorts: exposed,
    StopTimeout: stopTimeoutSeconds,
    HostConfig: {
      PortBindings: bindings,
      Init: true,
      RestartPolicy: { Name: 'no' }, // the controller replaces dead replicas itself
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
      ...(resources.cpu !== undefined ? { NanoCpus: Math.round(resources.cpu * 1e9) } : {}),
      ...(resources.memory !== undefined ? { Memory: parseMemoryBytes(resources.memory) } : {}),
    },
  };
}

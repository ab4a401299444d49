import { createHash } from 'node:crypto';
import type { ContainerShape } from '../../core/replica.js';
import { stableJson } from '../../core/stable-json.js';
import { DEFAULT_PUBLISH_HOST_IP } from '../../manifest/schema.js';
import type { AppSpec } from '../../manifest/types.js';

/** What shapes one replica of this spec, with its env already resolved. */
export function containerShapeOf(spec: AppSpec, env: Record<string, string>): ContainerShape {
  const publish = spec.ports
    .filter((p) => p.publish)
    .map((p) => ({ containerPort: p.containerPort, hostIp: p.hostIP ?? DEFAULT_PUBLISH_HOST_IP }));
  return {
    image: spec.image,
    command: spec.command,
    env,
    resources: spec.resources,
    ports: spec.ports.map((p) => p.containerPort),
    // Only when asked, so the hash of an app that publishes nothing does not depend on the field.
    ...(publish.length > 0 ? { publish } : {}),
    network: spec.network.isolated ? 'isolated' : 'shared',
    placement: spec.placement,
  };
}

/**
 * The revision label: a short hash of what shapes a replica. Give it the shape with opened env
 * values replaced by their fingerprints (resolve-env.ts), so the label says nothing about a secret.
 */
export function revisionOf(shape: ContainerShape): string {
  return createHash('sha256').update(stableJson(shape)).digest('hex').slice(0, 10);
}

import { createHash } from 'node:crypto';
import type { ContainerShape } from '../../core/replica.js';
import { stableJson } from '../../core/stable-json.js';
import type { AppSpec } from '../../manifest/types.js';

/** What shapes one replica of this spec, with its env already resolved. */
export function containerShapeOf(spec: AppSpec, env: Record<string, string>): ContainerShape {
  return {
    image: spec.image,
    command: spec.command,
    env,
    resources: spec.resources,
    ports: spec.ports.map((p) => p.containerPort),
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

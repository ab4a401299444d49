// Ownership by label: AutoServe touches only containers that carry `autoserve.managed=true` and its
// own instance label. One controller per host is the normal case (instance "default"); separate
// instances keep test runs and side-by-side controllers from pruning each other's containers.

export const LABEL_MANAGED = 'autoserve.managed';
export const LABEL_INSTANCE = 'autoserve.instance';
export const LABEL_APP = 'autoserve.app';
export const LABEL_REVISION = 'autoserve.revision';
export const LABEL_SLOT = 'autoserve.slot';
export const DEFAULT_INSTANCE = 'default';

/** An instance names containers and networks: letters, digits, "_" and "-" (no "." : it separates an app's own network). */
export const INSTANCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export function isInstanceName(value: string): boolean {
  return INSTANCE_PATTERN.test(value);
}

/** The name of something AutoServe makes for one controller instance: `autoserve-[<instance>-]<what>`. */
export function instanceObjectName(instance: string, what: string): string {
  const scope = instance === DEFAULT_INSTANCE ? '' : `${instance}-`;
  return `autoserve-${scope}${what}`;
}

/** Deterministic names make a duplicate create fail loudly instead of doubling a replica. */
export function containerName(instance: string, app: string, revision: string, slot: number): string {
  return instanceObjectName(instance, `${app}-${revision}-${slot}`);
}

/** The labels that mark one replica as ours: instance, app, revision and slot. */
export function replicaLabels(identity: { instance: string; app: string; revision: string; slot: number }): Record<string, string> {
  return {
    [LABEL_MANAGED]: 'true',
    [LABEL_INSTANCE]: identity.instance,
    [LABEL_APP]: identity.app,
    [LABEL_REVISION]: identity.revision,
    [LABEL_SLOT]: String(identity.slot),
  };
}

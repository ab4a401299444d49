// A halted rollout, recorded in the runtime as well as in the store: a container of the halted
// revision that is created and never started, labelled autoserve.halted. The store is the memory
// of a halt; the marker lets a store rebuilt from the runtime (both copies unreadable) still know
// it, so a halted rollout stays halted. It runs nothing, holds no env (no secret), publishes no
// port, and goes when the halt ends (the spec changed) or the app is removed.
import type { ReplicaFacts } from '../../core/replica.js';
import type { ContainerRuntime } from '../../runtime/runtime.js';

export const LABEL_HALTED = 'autoserve.halted';
/** The marker's slot in its deterministic name: far above any replica count. */
export const HALT_MARKER_SLOT = 9_999;

/** Splits what the runtime lists for an app into its replicas and its halt markers. */
export function splitHaltMarkers(facts: readonly ReplicaFacts[]): { replicas: ReplicaFacts[]; markers: ReplicaFacts[] } {
  const replicas: ReplicaFacts[] = [];
  const markers: ReplicaFacts[] = [];
  for (const f of facts) (f.labels[LABEL_HALTED] === 'true' ? markers : replicas).push(f);
  return { replicas, markers };
}

/** What the store remembers, with the halt a marker records when the store does not (it was rebuilt). */
export function withMarkedHalt<T extends { haltedRevision?: string }>(stored: T | undefined, markers: readonly ReplicaFacts[]): T | { haltedRevision?: string } | undefined {
  if (stored?.haltedRevision !== undefined || markers.length === 0) return stored;
  return { ...stored, haltedRevision: markers[0]!.revision };
}

export interface HaltMarkerContext {
  instance: string;
  app: string;
  /** The image of the halted revision (present: its replicas ran). */
  image: string;
  labels?: Record<string, string>;
}

/**
 * Makes the app's markers say `halted` (a revision, or none): the marker of a halt that ended is
 * removed, a missing one created. Failures are returned, not thrown: the store still holds the halt.
 */
export async function syncHaltMarker(
  runtime: Pick<ContainerRuntime, 'create' | 'remove'>,
  markers: readonly ReplicaFacts[],
  halted: string | undefined,
  ctx: HaltMarkerContext,
): Promise<Error[]> {
  const errors: Error[] = [];
  const attempt = (work: Promise<unknown>) => work.catch((err: unknown) => void errors.push(err instanceof Error ? err : new Error(String(err))));
  for (const m of markers) if (m.revision !== halted) await attempt(runtime.remove(m.id));
  if (halted !== undefined && !markers.some((m) => m.revision === halted)) {
    await attempt(
      runtime.create({
        instance: ctx.instance,
        app: ctx.app,
        revision: halted,
        slot: HALT_MARKER_SLOT,
        // Never started, so it joins no network in effect; the shared one is always there to name.
        shape: { image: ctx.image, env: {}, ports: [], network: 'shared' },
        stopTimeoutSeconds: 0,
        labels: { ...ctx.labels, [LABEL_HALTED]: 'true' },
      }),
    );
  }
  return errors;
}

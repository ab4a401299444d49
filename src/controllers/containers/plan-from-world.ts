// What the container controller would do now, computed from the manifests on disk and what the runtime
// runs, with the same planner the controller uses — without doing any of it (`autoserve plan`).
// It needs no running daemon: each running replica is probed once for its health, and the store
// file, when present, is only read (the last good specs, the autoscaler's replica count, a halted
// revision), so it decides from the same input as the daemon after a restart.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { healthPort } from '../../core/readiness.js';
import { ownEntry } from '../../core/own-entry.js';
import type { ReplicaFacts, ReplicaHealth } from '../../core/replica.js';
import { ReconcileError } from '../../errors.js';
import { compareStrings } from '../../core/stable-json.js';
import { DesiredState } from '../../manifest/desired-state.js';
import { settleClashes } from '../../manifest/duplicate-names.js';
import type { ValueSource } from '../../secrets/value-source.js';
import { loadManifestDirectory } from '../../manifest/load-directory.js';
import type { LoadedApp, ManifestError } from '../../manifest/types.js';
import { probeHttp, probeTcp } from '../../observe/health-prober.js';
import type { ContainerRuntime } from '../../runtime/runtime.js';
import { lastGoodApps } from '../../store/last-good-apps.js';
import type { AppStatus, StoreData } from '../../store/status-model.js';
import { desiredReplicaCount } from './desired-replicas.js';
import { planContainers, type ContainerAction, type DesiredReplicaSet } from './plan-containers.js';
import { splitHaltMarkers, withMarkedHalt } from './halt-marker.js';
import { desiredReplicaSetOf, observedReplicaOf } from './replica-sets.js';

export interface PlanFromWorldInput {
  runtime: Pick<ContainerRuntime, 'list'>;
  /** Controller instance (label scope) whose containers are considered. */
  instance: string;
  manifestsDir: string;
  /** The daemon's store file; read only, and optional (a missing file is fine). */
  statePath?: string;
  /** As the daemon's --allow-empty-prune. */
  allowEmptyPrune?: boolean;
  /** Where valueFrom env values come from: what the operator opened to apps, as the controller does. */
  values: ValueSource;
  now?: number;
  /** Probes one replica once; defaults to the controller's own HTTP/TCP probes. */
  probe?: (replica: ReplicaFacts, app: LoadedApp) => Promise<ReplicaHealth>;
}

export interface AppPlan {
  app: string;
  /** Undefined for an app planned for removal (no manifest). */
  revision?: string;
  desiredReplicas: number;
  actions: ContainerAction[];
  converged: boolean;
  /** Why nothing can be planned for this app (a stalled error such as a missing env value). */
  stalled?: string;
}

export interface WorldPlan {
  apps: AppPlan[];
  /** Manifest errors of the directory (apps named in them keep what they run). */
  errors: ManifestError[];
  /** True when apps the runtime runs but no manifest declares are kept (empty directory, or a file with errors may declare them). */
  pruneBlocked: boolean;
  /** Apps planned at their last good spec (from the store) because their manifest is invalid or unreadable. */
  kept: string[];
}

export async function planFromWorld(input: PlanFromWorldInput): Promise<WorldPlan> {
  const now = input.now ?? Date.now();
  // Absolute, like the daemon's: the store names each app's file by its absolute path.
  const load = await loadManifestDirectory(resolve(input.manifestsDir));
  const stored = input.statePath ? await readStoreReadOnly(input.statePath) : undefined;
  const containers = await input.runtime.list({ instance: input.instance });
  const probe = input.probe ?? probeOnce;
  const byApp = groupBy(containers, (c) => c.app);

  // The daemon's own rules: last good specs from the store, then this load on top of them.
  const desired = new DesiredState({ allowEmptyPrune: input.allowEmptyPrune });
  if (stored) desired.remember(lastGoodApps(stored));
  desired.apply(settleClashes(load, (app) => desired.get(app)?.file));

  const plans: AppPlan[] = [];
  for (const loaded of desired.all()) {
    const name = loaded.manifest.metadata.name;
    plans.push(await planApp(name, loaded, byApp.get(name) ?? [], (stored ? ownEntry(stored.apps, name) : undefined), { ...input, now, probe }));
  }

  // Apps the runtime runs that the desired state does not hold: removed when it may prune them.
  const undeclared = [...byApp.keys()].filter((app) => !desired.get(app));
  const pruneBlocked = undeclared.some((app) => !desired.mayPrune(app));
  for (const app of undeclared.filter((a) => desired.mayPrune(a))) {
    const actions: ContainerAction[] = (byApp.get(app) ?? []).map((c) => ({
      kind: 'remove',
      id: c.id,
      name: c.name,
      drain: c.running,
      reason: 'manifest removed',
    }));
    plans.push({ app, desiredReplicas: 0, actions, converged: false });
  }
  plans.sort((a, b) => compareStrings(a.app, b.app));
  return { apps: plans, errors: load.errors, pruneBlocked, kept: desired.all().filter((a) => !load.apps.has(a.manifest.metadata.name)).map((a) => a.manifest.metadata.name) };
}

async function planApp(
  app: string,
  loaded: LoadedApp,
  listed: ReplicaFacts[],
  stored: AppStatus | undefined,
  input: PlanFromWorldInput & { now: number; probe: NonNullable<PlanFromWorldInput['probe']> },
): Promise<AppPlan> {
  let desired: DesiredReplicaSet;
  const split = splitHaltMarkers(listed);
  const facts = split.replicas;
  try {
    desired = desiredReplicaSetOf(loaded, withMarkedHalt(stored, split.markers), input.values, facts).desired;
  } catch (err) {
    if (!(err instanceof ReconcileError)) throw err;
    const replicas = desiredReplicaCount(loaded.manifest.spec, stored, facts);
    return { app, desiredReplicas: replicas, actions: [], converged: false, stalled: err.message };
  }
  const { revision, replicas } = desired;
  // Drains live in the daemon's memory; a plan cannot see them. A replica that passes its one probe
  // is taken as ready since it started (the daemon's prober knows better).
  // The last converged revision's replicas are checked as it was declared (a rollout that changes the port or the check).
  const specOf = (f: ReplicaFacts): LoadedApp => (stored?.stable && f.revision === stored.stable.revision && f.revision !== desired.revision ? { ...loaded, manifest: { ...loaded.manifest, spec: stored.stable.spec } } : loaded);
  const observed = await Promise.all(facts.map(async (f) => observedReplicaOf(f, f.running ? await input.probe(f, specOf(f)) : 'starting', false, f.createdAtMs)));
  const plan = planContainers(desired, observed, input.now);
  return { app, revision, desiredReplicas: replicas, actions: plan.actions, converged: plan.converged };
}

/**
 * One probe of one replica. A pass makes it ready; a failure leaves it "starting", never
 * "unhealthy": one failed probe is not the controller's failureThreshold in a row, and a plan must
 * not claim the controller would replace a replica it would not.
 */
async function probeOnce(replica: ReplicaFacts, loaded: LoadedApp): Promise<ReplicaHealth> {
  const spec = loaded.manifest.spec;
  const address = replica.addresses[healthPort(spec)];
  if (address === undefined) return 'starting';
  const result = spec.health ? await probeHttp(address, spec.health) : await probeTcp(address);
  return result.ok ? 'ready' : 'starting';
}

/** Reads the store file without the Store class: no write, no moving a corrupt file aside. */
async function readStoreReadOnly(path: string): Promise<StoreData | undefined> {
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as Partial<StoreData>;
    return data && data.version === 1 && typeof data.apps === 'object' ? (data as StoreData) : undefined;
  } catch {
    return undefined; // missing or unreadable: plan from the manifests alone
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

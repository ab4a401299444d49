// What the container controller would do now, computed from the manifests on disk and what the runtime
// runs, with the same planner the controller uses — without doing any of it (`autoserve plan`).
// It needs no running daemon: each running replica is probed once for its health, and the store
// file, when present, is only read (for the autoscaler's replica count and a halted revision).
import { readFile } from 'node:fs/promises';
import { healthPort } from '../../core/readiness.js';
import type { ReplicaFacts, ReplicaHealth } from '../../core/replica.js';
import { ReconcileError } from '../../errors.js';
import type { ValueSource } from '../../secrets/value-source.js';
import { loadManifestDirectory } from '../../manifest/load-directory.js';
import type { LoadedApp, ManifestError } from '../../manifest/types.js';
import { probeHttp, probeTcp } from '../../observe/health-prober.js';
import type { ContainerRuntime } from '../../runtime/runtime.js';
import type { AppStatus, StoreData } from '../../store/status-model.js';
import { desiredReplicaCount } from './desired-replicas.js';
import { planContainers, type ContainerAction, type DesiredReplicaSet } from './plan-containers.js';
import { desiredReplicaSetOf, observedReplicaOf } from './replica-sets.js';

export interface PlanFromWorldInput {
  runtime: Pick<ContainerRuntime, 'list'>;
  /** Controller instance (label scope) whose containers are considered. */
  instance: string;
  manifestsDir: string;
  /** The daemon's store file; read only, and optional (a missing file is fine). */
  statePath?: string;
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
  /** True when undeclared apps were left alone because the directory has no manifest files. */
  pruneBlocked: boolean;
}

export async function planFromWorld(input: PlanFromWorldInput): Promise<WorldPlan> {
  const now = input.now ?? Date.now();
  const load = await loadManifestDirectory(input.manifestsDir);
  const stored = input.statePath ? await readStoreReadOnly(input.statePath) : undefined;
  const containers = await input.runtime.list({ instance: input.instance });
  const probe = input.probe ?? probeOnce;
  const byApp = groupBy(containers, (c) => c.app);

  const plans: AppPlan[] = [];
  for (const [name, loaded] of load.apps) {
    plans.push(await planApp(name, loaded, byApp.get(name) ?? [], stored?.apps[name], { ...input, now, probe }));
  }

  // Apps the runtime runs that no manifest declares: removed, unless an error names them (the daemon
  // keeps their last good spec) or the directory is empty (prune guard).
  const named = new Set(load.errors.map((e) => e.app).filter((a): a is string => a !== undefined));
  const undeclared = [...byApp.keys()].filter((app) => !load.apps.has(app) && !named.has(app));
  const pruneBlocked = load.fileCount === 0 && undeclared.length > 0;
  if (!pruneBlocked) {
    for (const app of undeclared) {
      const actions: ContainerAction[] = (byApp.get(app) ?? []).map((c) => ({
        kind: 'remove',
        id: c.id,
        name: c.name,
        drain: c.running,
        reason: 'manifest removed',
      }));
      plans.push({ app, desiredReplicas: 0, actions, converged: false });
    }
  }
  plans.sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0));
  return { apps: plans, errors: load.errors, pruneBlocked };
}

async function planApp(
  app: string,
  loaded: LoadedApp,
  facts: ReplicaFacts[],
  stored: AppStatus | undefined,
  input: PlanFromWorldInput & { now: number; probe: NonNullable<PlanFromWorldInput['probe']> },
): Promise<AppPlan> {
  let desired: DesiredReplicaSet;
  try {
    desired = desiredReplicaSetOf(loaded, stored, input.values).desired;
  } catch (err) {
    if (!(err instanceof ReconcileError)) throw err;
    const replicas = desiredReplicaCount(loaded.manifest.spec, stored?.autoscaledReplicas);
    return { app, desiredReplicas: replicas, actions: [], converged: false, stalled: err.message };
  }
  const { revision, replicas } = desired;
  // Drains live in the daemon's memory; a plan cannot see them.
  const observed = await Promise.all(facts.map(async (f) => observedReplicaOf(f, f.running ? await input.probe(f, loaded) : 'starting', false)));
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

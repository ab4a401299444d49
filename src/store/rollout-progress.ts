// Reads an app's status as a rollout: done (the current revision runs everywhere and is ready),
// still going (and how far), or halted for a reason that waiting will not fix. One reading for
// `autoserve rollout status` and the dashboard's app page.
import type { AppStatus, Condition } from './status-model.js';

export type RolloutState = 'complete' | 'progressing' | 'failed';

export interface RolloutProgress {
  state: RolloutState;
  /** One line: how far the rollout is, or why it halted. */
  message: string;
  /** For 'failed': the condition type that says why (RolloutFailed, ManifestInvalid, ...). */
  reason?: string;
}

/**
 * Conditions under which a rollout will not finish by waiting: the new revision was not ready in
 * time (the old one keeps serving), the manifest as written is invalid, its image is missing, a
 * value it needs is missing, nginx rejects its route, or another app holds its route.
 */
const HALTING: { type: string; reason?: string }[] = [
  { type: 'RolloutFailed' },
  { type: 'ManifestInvalid' },
  { type: 'ImagePullFailed' },
  { type: 'EnvValueMissing' },
  { type: 'RouteDegraded' },
  { type: 'RouteConflict', reason: 'HostPathClaimed' },
];

export function haltingCondition(conditions: readonly Condition[]): Condition | undefined {
  return conditions.find((c) => c.status === 'True' && HALTING.some((h) => h.type === c.type && (h.reason === undefined || h.reason === c.reason)));
}

/**
 * Where the app's rollout stands. With `commit` (git mode), the rollout counts only once the app's
 * status names that source commit (a prefix is enough), so a CI job can wait for its own push.
 */
export function rolloutProgress(app: AppStatus, commit?: string): RolloutProgress {
  const halted = haltingCondition(app.conditions);
  if (halted) return { state: 'failed', reason: halted.type, message: `${halted.type} (${halted.reason}): ${halted.message}` };
  if (commit !== undefined && !(app.revision?.commit ?? '').startsWith(commit)) {
    const at = app.revision ? `commit ${app.revision.commit.slice(0, 12)}` : 'no commit yet';
    return progressing(`waiting for commit ${commit.slice(0, 12)} to be applied (the app is at ${at})`);
  }
  if (app.containerRevision === undefined || app.observedGeneration < app.generation) {
    return progressing('waiting for the controller to act on the latest spec');
  }
  const live = app.instances.filter((i) => i.state === 'running');
  if (app.spec?.state === 'down') {
    return live.length === 0 ? complete('stopped: the app is down and no replica is left') : progressing(`stopping: ${live.length} replica(s) left`);
  }
  const { desired, updated, ready } = app.replicas;
  const old = live.filter((i) => i.revision !== app.containerRevision).length;
  const rev = `revision ${app.containerRevision}`;
  if (updated < desired) return progressing(`${updated} of ${desired} new replicas have been updated (${rev})`);
  if (old > 0) return progressing(`${old} old replica(s) pending termination (${rev})`);
  if (ready < desired) return progressing(`${ready} of ${desired} updated replicas are ready (${rev})`);
  if (app.phase !== 'Running') return progressing(`phase is ${app.phase} (${rev})`);
  return complete(`successfully rolled out: ${rev}, ${ready}/${desired} replicas ready`);
}

function progressing(message: string): RolloutProgress {
  return { state: 'progressing', message };
}

function complete(message: string): RolloutProgress {
  return { state: 'complete', message };
}

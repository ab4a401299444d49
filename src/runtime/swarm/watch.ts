// Swarm's events say little: service events carry only the service name, task state changes have
// no event at all, and container events come only from the local engine. So the Swarm runtime
// watches by polling its own listing and telling the apps whose replicas changed, and uses the
// event streams only to poll sooner: local container events (a task dying here) and service and
// node events (a node going down) each trigger a poll at once.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { addressKey } from '../../core/readiness.js';
import type { ReplicaFacts } from '../../core/replica.js';
import { errorMessage } from '../../errors.js';
import { followEngineEvents } from '../docker/events.js';
import type { ReplicaEventHandlers } from '../runtime.js';

export const DEFAULT_POLL_MS = 1_000;

export interface SwarmWatchOptions {
  docker: Docker;
  /** The scope's replicas as they are now. */
  list(): Promise<ReplicaFacts[]>;
  /** Docker label filters of our task containers on this engine. */
  labelFilter: string[];
  pollMs?: number;
  logger: Logger;
}

/** What of a replica the controller acts on: a change in any of these is worth a pass. */
function fingerprint(f: ReplicaFacts): string {
  const addresses = Object.values(f.addresses).map(addressKey).sort().join(',');
  return `${f.state}|${f.running}|${addresses}|${f.node?.nodeId ?? ''}|${f.lostWith?.taskId ?? ''}`;
}

/** The action word of an app's change, in Docker's terms (die, start, destroy, create, update). */
export function changeOf(before: ReadonlyMap<string, ReplicaFacts>, after: ReadonlyMap<string, ReplicaFacts>): string | undefined {
  let action: string | undefined;
  const rank = ['update', 'create', 'start', 'destroy', 'die'];
  const note = (word: string) => {
    if (action === undefined || rank.indexOf(word) > rank.indexOf(action)) action = word;
  };
  for (const [id, was] of before) {
    const now = after.get(id);
    if (!now) note('destroy');
    else if (fingerprint(now) !== fingerprint(was)) {
      const lostAddress = Object.keys(was.addresses).length > Object.keys(now.addresses).length;
      note((was.running && !now.running) || lostAddress ? 'die' : now.running && Object.keys(now.addresses).length > 0 ? 'start' : 'update');
    }
  }
  for (const id of after.keys()) if (!before.has(id)) note('create');
  return action;
}

export function watchSwarm(options: SwarmWatchOptions, handlers: ReplicaEventHandlers): { close(): void } {
  const { logger } = options;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  let known: Map<string, Map<string, ReplicaFacts>> | undefined;
  let closed = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let again = false;

  const byApp = (facts: ReplicaFacts[]) => {
    const apps = new Map<string, Map<string, ReplicaFacts>>();
    for (const f of facts) {
      if (!apps.has(f.app)) apps.set(f.app, new Map());
      apps.get(f.app)!.set(f.id, f);
    }
    return apps;
  };

  const pollOnce = async () => {
    let facts: ReplicaFacts[];
    try {
      facts = await options.list();
    } catch (err) {
      if (!failing) logger.warn({ err: errorMessage(err) }, 'swarm listing failed; retrying');
      failing = true;
      return;
    }
    if (closed) return;
    const now = byApp(facts);
    if (failing) {
      failing = false;
      handlers.onReconnect(); // changes while the managers did not answer are unknown
    } else if (known) {
      for (const app of new Set([...known.keys(), ...now.keys()])) {
        const action = changeOf(known.get(app) ?? new Map(), now.get(app) ?? new Map());
        if (action) handlers.onApp(app, action);
      }
    }
    known = now;
  };

  /** Polls now (or right after the poll in flight), then every pollMs. */
  const poll = () => {
    if (closed) return;
    if (polling) {
      again = true;
      return;
    }
    clearTimeout(timer);
    polling = pollOnce().finally(() => {
      polling = undefined;
      if (closed) return;
      if (again) {
        again = false;
        poll();
      } else {
        timer = setTimeout(poll, pollMs);
        timer.unref?.();
      }
    });
  };

  const containers = followEngineEvents(
    options.docker,
    { type: ['container'], event: ['start', 'die', 'destroy', 'oom', 'stop'], label: options.labelFilter },
    { onEvent: poll, onReconnect: poll },
    logger,
  );
  const cluster = followEngineEvents(options.docker, { type: ['service', 'node'] }, { onEvent: poll, onReconnect: poll }, logger);
  poll();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      containers.close();
      cluster.close();
    },
  };
}

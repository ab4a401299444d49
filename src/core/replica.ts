// The words every layer uses for one replica: what the runtime reports about it (facts), how it
// is reached (address), and what the controller adds (health, draining). Pure types, no I/O.

/** Where a port of a replica is reached from the controller's host (nginx, probes). */
export interface Address {
  host: string;
  port: number;
  /**
   * Reached through a userland proxy (Docker's docker-proxy behind a published port) that accepts
   * connections even when nothing listens inside: a TCP check must see the connection stay open.
   * Absent for an address on the replica's network, where a closed port refuses at once.
   */
  proxied?: boolean;
}

/**
 * starting: not yet passed a check; ready: passed its checks (in the rotation); not-ready: failing
 * its checks after being ready, out of the rotation but kept running (readiness: a busy replica
 * comes back when it passes again); unhealthy: failing for the replace-after time without a pass
 * (liveness: replaced).
 */
export type ReplicaHealth = 'starting' | 'ready' | 'not-ready' | 'unhealthy';

/** What the runtime tells about one of our replicas; health and draining are added by the controller. */
export interface ReplicaFacts {
  id: string;
  name: string;
  app: string;
  revision: string;
  slot: number;
  image: string;
  /** The runtime's own word: created, running, paused, exited, dead, pending, ... */
  state: string;
  /**
   * Its process is there (running or paused: health checks say whether it answers), or the runtime
   * itself is bringing it up (a Swarm task that is starting or restarting). False once it has ended
   * and nothing but the controller will replace it.
   */
  running: boolean;
  createdAtMs: number;
  /**
   * containerPort -> where nginx and the probes reach that port; reported by the runtime, never
   * computed by callers. On the replica's network when it has joined ours; a replica made before
   * networks (published ports only) is reached at its published 127.0.0.1 port until it is replaced.
   */
  addresses: Record<number, Address>;
  /** containerPort -> the host address it is published on (only ports the manifest publishes). */
  published: Record<number, Address>;
  /** The network of ours the replica is on; undefined for a replica that joined none. */
  network?: string;
  labels: Record<string, string>;
  /** The machine it runs on, where the runtime spans several (Swarm); absent on a single host. */
  node?: NodeRef;
  /** A task of this replica that was still running on a node that is now down (Swarm). */
  lostWith?: NodeRef & { taskId: string };
}

/** A machine of a cluster runtime: its id and the name people know it by. */
export interface NodeRef {
  nodeId: string;
  node: string;
}

/** The controller's view of one replica: the planner's input and what readiness is decided on. */
export interface ObservedReplica {
  id: string;
  name: string;
  revision: string;
  slot: number;
  running: boolean;
  createdAtMs: number;
  health: ReplicaHealth;
  /** Since when it has been ready without a break (set while health is 'ready'; minReadySeconds). */
  readySinceMs?: number;
  /** Already leaving: out of the upstream, waiting out its drain. Counted nowhere. */
  draining: boolean;
}

/** Facts plus the controller's health and drain state, as they are now (routes, autoscaler). */
export type LiveReplica = ReplicaFacts &
  Pick<ObservedReplica, 'health' | 'draining'> & {
    /** The port its own revision takes traffic on, when the controller remembers it (else the spec's). */
    trafficPort?: number;
  };

/** The parts of a spec that shape a container; a change in any of them is a new revision. */
export interface ContainerShape {
  image: string;
  command?: string[];
  env: Record<string, string>;
  resources?: { cpu?: number; memory?: string };
  /** Container ports; the first one takes the traffic. */
  ports: number[];
  /** Ports also published on the host, each on a host port the runtime picks. Absent: none. */
  publish?: { containerPort: number; hostIp: string }[];
  /**
   * Which network the replica joins: the instance's shared one, or one of the app's own that no
   * other app's replicas are on. Part of the shape, so a replica on another network (or on none,
   * made by an older AutoServe) is replaced by a rolling update.
   */
  network: ReplicaNetwork;
  /** Where it may run on a cluster; absent (not empty) when the manifest says nothing, so revisions stay. */
  placement?: { constraints?: string[]; spread?: 'node' | 'none' };
}

export type ReplicaNetwork = 'shared' | 'isolated';

// Who may act. On one Docker host the controller is alone and always leads; on a Swarm, two or
// more controllers contend for a lease and only its holder acts (creates, stops, removes), while
// the others observe, probe, route and serve the status endpoint (docs/cluster.md). Pure types.

export interface LeadershipStatus {
  /** single: one controller, always the leader (Docker runtime). lease: leads while it holds the Swarm lease. */
  mode: 'single' | 'lease';
  /** This controller's identity (lease holder name: host:pid:random). */
  identity: string;
  leading: boolean;
  /** The leader as last seen: an identity, '' when nobody holds the lease, undefined before the first look. */
  leader?: string;
  /** When this controller last started or stopped leading (ISO time). */
  since: string;
}

export interface Leadership {
  /** Whether this controller may act now (checked before every action). */
  isLeader(): boolean;
  status(): LeadershipStatus;
}

/** The one controller of a single host: always the leader. */
export function soleLeadership(identity: string, since = new Date()): Leadership {
  const status: LeadershipStatus = { mode: 'single', identity, leading: true, leader: identity, since: since.toISOString() };
  return { isLeader: () => true, status: () => status };
}

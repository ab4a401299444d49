// Leadership of a controller on a Swarm: it leads while it holds the lease kept in the swarm's
// replicated state (config-lease-store.ts, leader-lease.ts). Start it, and it contends until stopped;
// stopping releases the lease so a standby takes over at its next retry.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Leadership, LeadershipStatus } from '../../core/leadership.js';
import { errorMessage } from '../../errors.js';
import { SwarmConfigLeaseStore } from './config-lease-store.js';
import { LeaderLease, type LeaseTiming } from './leader-lease.js';

export interface LeaseLeadershipOptions {
  docker: Docker;
  /** The Swarm config that holds the lease (one per controller instance). */
  leaseName: string;
  identity?: string;
  timing?: LeaseTiming;
  logger: Logger;
}

export class LeaseLeadership implements Leadership {
  private readonly lease: LeaderLease;
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private leader: string | undefined;
  private since = new Date().toISOString();

  constructor(options: LeaseLeadershipOptions) {
    this.lease = new LeaderLease({ store: new SwarmConfigLeaseStore(options.docker, options.leaseName), identity: options.identity, timing: options.timing });
    this.logger = options.logger.child({ component: 'leader-lease', identity: this.lease.identity });
  }

  get identity(): string {
    return this.lease.identity;
  }

  isLeader(): boolean {
    return this.lease.isLeader();
  }

  status(): LeadershipStatus {
    const leading = this.isLeader();
    return { mode: 'lease', identity: this.identity, leading, leader: leading ? this.identity : this.leader, since: this.since };
  }

  /** Contends until stop(); `onChange` hears each start and end of leading. */
  start(onChange: (leading: boolean) => void): void {
    if (this.running) return;
    this.running = this.lease.run(this.abort.signal, {
      onStartedLeading: () => {
        this.since = new Date().toISOString();
        this.logger.info('leading: this controller acts');
        onChange(true);
      },
      onStoppedLeading: () => {
        this.since = new Date().toISOString();
        this.logger.warn('no longer leading: this controller only observes');
        onChange(false);
      },
      onNewLeader: (holder) => {
        this.leader = holder;
        this.logger.info({ leader: holder || '(none)' }, 'leader seen');
      },
      onError: (err) => {
        // The managers may be electing a new Raft leader: the lease logic carries on by itself.
        this.logger.warn({ err: errorMessage(err) }, 'leader lease round failed');
      },
    });
  }

  /** Stops contending and releases the lease if held. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}

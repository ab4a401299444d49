// The leader lease in Swarm's replicated state: the labels of one Swarm config object.
//
// Why a config: its data is immutable but its labels can be updated, and every update names the
// object version it read (`POST /configs/{id}/update?version=N`); Swarm refuses a stale version
// with "update out of sequence" (HTTP 500 on engine 20.10), so the write is a compare-and-swap
// decided by the managers' Raft log. Unlike a service, nothing but our writes changes a config's
// version (a service's version also moves when Swarm records rolling-update progress), and
// unlike the swarm spec, no operator command rewrites it. Creation is atomic by name (409).
// Only managers serve the config API: contenders run on managers.
import type Docker from 'dockerode';
import { isStatus } from '../docker/docker-status.js';
import type { LeaseRecord, LeaseStore, VersionedLease } from './leader-lease.js';
import { isOutOfSequence } from './swarm-errors.js';

export const DEFAULT_LEASE_NAME = 'autoserve-leader';
/** Swarm requires config data (1 byte to 1000 KB); the lease lives in the labels. */
const LEASE_DATA = Buffer.from('autoserve leader lease: see the labels\n').toString('base64');
const REQUEST_TIMEOUT_MS = 5_000;

const LABEL = {
  managed: 'autoserve.managed',
  holder: 'autoserve.lease.holder',
  acquiredAt: 'autoserve.lease.acquired-at',
  renewedAt: 'autoserve.lease.renewed-at',
  leaseDurationMs: 'autoserve.lease.duration-ms',
  transitions: 'autoserve.lease.transitions',
} as const;

interface ConfigSpec {
  Name: string;
  Data: string;
  Labels?: Record<string, string>;
}
interface ConfigInfo {
  ID: string;
  Version: { Index: number };
  Spec: ConfigSpec;
}

export class SwarmConfigLeaseStore implements LeaseStore {
  /** Id and spec of the object last read: an update must repeat Name and Data unchanged. */
  private last: ConfigInfo | undefined;

  constructor(
    private readonly docker: Docker,
    readonly name: string = DEFAULT_LEASE_NAME,
    private readonly timeoutMs: number = REQUEST_TIMEOUT_MS,
  ) {}

  async read(): Promise<VersionedLease | undefined> {
    try {
      const info = (await this.docker.getConfig(this.name).inspect({ abortSignal: this.signal() } as never)) as unknown as ConfigInfo;
      this.last = info;
      return { version: info.Version.Index, record: toRecord(info.Spec.Labels ?? {}) };
    } catch (err) {
      if (isStatus(err, 404)) {
        this.last = undefined;
        return undefined;
      }
      throw err;
    }
  }

  async create(record: LeaseRecord): Promise<boolean> {
    try {
      await this.docker.createConfig({ Name: this.name, Data: LEASE_DATA, Labels: toLabels(record), abortSignal: this.signal() } as never);
      return true;
    } catch (err) {
      if (isStatus(err, 409)) return false;
      throw err;
    }
  }

  async replace(version: number, record: LeaseRecord): Promise<boolean> {
    const last = this.last;
    if (!last || last.Version.Index !== version) throw new Error(`lease ${this.name}: replace(${version}) without reading that version first`);
    try {
      await this.docker.getConfig(last.ID).update({
        _query: { version },
        _body: { ...last.Spec, Labels: { ...last.Spec.Labels, ...toLabels(record) } },
        abortSignal: this.signal(),
      } as never);
      return true;
    } catch (err) {
      if (isStatus(err, 404) || isOutOfSequence(err)) return false;
      throw err;
    }
  }

  private signal(): AbortSignal {
    return AbortSignal.timeout(this.timeoutMs);
  }
}

function toLabels(record: LeaseRecord): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.holder]: record.holder,
    [LABEL.acquiredAt]: record.acquiredAt,
    [LABEL.renewedAt]: record.renewedAt,
    [LABEL.leaseDurationMs]: String(record.leaseDurationMs),
    [LABEL.transitions]: String(record.transitions),
  };
}

/** Labels to a record; missing or garbled numbers count as 0 (a hand-made object is taken over after the default wait). */
function toRecord(labels: Record<string, string>): LeaseRecord {
  const int = (value: string | undefined) => (Number.isFinite(Number(value)) ? Number(value) : 0);
  return {
    holder: labels[LABEL.holder] ?? '',
    acquiredAt: labels[LABEL.acquiredAt] ?? '',
    renewedAt: labels[LABEL.renewedAt] ?? '',
    leaseDurationMs: int(labels[LABEL.leaseDurationMs]),
    transitions: int(labels[LABEL.transitions]),
  };
}

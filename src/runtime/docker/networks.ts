// AutoServe's Docker networks: the bridge every replica of an instance joins (shared), and a bridge
// of an app's own (isolated: Docker keeps bridge networks apart, so no other app's replica reaches
// it). nginx and the health checks reach replicas at their address there, straight from the host:
// no published port, no docker-proxy. A network is created when missing, adopted when present and
// labelled as ours, refused when the name is taken by anything else. Docker picks the subnet from
// its address pools; a subnet outside the private ranges is refused (nginx would not route to it).
// Every call is bounded (docker-call.ts).
import type Docker from 'dockerode';
import { DEFAULT_INSTANCE, LABEL_APP, LABEL_INSTANCE, LABEL_MANAGED, isInstanceName } from '../../core/labels.js';
import { isPeerSubnet, PEER_RANGES } from '../../core/peer-address.js';
import type { ReplicaNetwork } from '../../core/replica.js';
import { untilAborted } from '../../core/with-timeout.js';
import { NetworkUnavailableError, RuntimeUnresponsiveError } from '../../errors.js';
import { DOCKER_CALL_TIMEOUT_MS, dockerCall } from './docker-call.js';
import { isStatus } from './docker-status.js';

/** Which of our networks a Docker network is (shared or isolated): a label on it. */
export const LABEL_NETWORK = 'autoserve.network';
const BASE_NAME = 'autoserve';
/** Apps are DNS labels (the manifest's rule). */
const APP_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export interface NetworkRef {
  name: string;
  instance: string;
  kind: ReplicaNetwork;
  /** The app whose own network it is (isolated only). */
  app?: string;
}

/**
 * The network a replica of `app` joins. Shared: `autoserve` (default instance) or
 * `autoserve-<instance>`; isolated: that name, a dot, and the app. Neither instances nor apps
 * contain a dot, so no two refs share a name.
 */
export function networkOf(instance: string, app: string, kind: ReplicaNetwork): NetworkRef {
  if (!isInstanceName(instance)) throw new Error(`instance ${JSON.stringify(instance)} is not usable in a network name (letters, digits, "_" and "-")`);
  if (!APP_NAME.test(app)) throw new Error(`app ${JSON.stringify(app)} is not usable in a network name (a DNS label)`);
  const shared = instance === DEFAULT_INSTANCE ? BASE_NAME : `${BASE_NAME}-${instance}`;
  return kind === 'shared' ? { name: shared, instance, kind } : { name: `${shared}.${app}`, instance, kind, app };
}

/** The labels that prove a network is ours, and which one it is. */
export function networkLabels(ref: NetworkRef): Record<string, string> {
  return {
    [LABEL_MANAGED]: 'true',
    [LABEL_INSTANCE]: ref.instance,
    [LABEL_NETWORK]: ref.kind,
    ...(ref.app !== undefined ? { [LABEL_APP]: ref.app } : {}),
  };
}

function isOurs(info: Docker.NetworkInspectInfo, ref: NetworkRef): boolean {
  const labels = info.Labels ?? {};
  return info.Driver === 'bridge' && Object.entries(networkLabels(ref)).every(([key, value]) => labels[key] === value);
}

/** Exact-name lookup (Docker's name filter matches substrings). */
async function findByName(docker: Docker, name: string, signal: AbortSignal | undefined): Promise<Docker.NetworkInspectInfo[]> {
  const found = await dockerCall(`list of networks named ${name}`, DOCKER_CALL_TIMEOUT_MS.list, signal, (abortSignal) => docker.listNetworks({ filters: { name: [name] }, abortSignal }));
  return found.filter((n) => n.Name === name);
}

function checkAdoptable(found: Docker.NetworkInspectInfo[], ref: NetworkRef): void {
  if (found.length > 1) {
    throw new NetworkUnavailableError(ref.name, `${found.length} networks carry this name; remove the extra ones (docker network ls --filter name=${ref.name})`);
  }
  const [info] = found;
  if (!info || !isOurs(info, ref)) {
    throw new NetworkUnavailableError(
      ref.name,
      `a ${info?.Driver ?? ''} network of this name exists but is not AutoServe's (labels ${Object.entries(networkLabels(ref)).map(([k, v]) => `${k}=${v}`).join(', ')}, bridge driver); remove or rename it`,
    );
  }
  const subnets = (info.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s && s.includes('.'));
  const outside = subnets.filter((s) => !isPeerSubnet(s));
  if (subnets.length === 0 || outside.length > 0) {
    throw new NetworkUnavailableError(
      ref.name,
      `its subnet ${outside.join(', ') || '(none)'} is not in a private range (${PEER_RANGES.join(', ')}); set dockerd's default-address-pools to private ranges, or create the network yourself with a private subnet and our labels`,
    );
  }
}

/**
 * Creates the network when missing, adopts it when it is ours. Rejects with NetworkUnavailableError
 * when the name is taken by a network that is not ours or its subnet is not private. `extraLabels`
 * go on a network this call creates (tests mark theirs).
 */
export async function ensureNetwork(docker: Docker, ref: NetworkRef, extraLabels: Record<string, string> = {}, signal?: AbortSignal): Promise<void> {
  let found = await findByName(docker, ref.name, signal);
  if (found.length === 0) {
    try {
      await dockerCall(`create of network ${ref.name}`, DOCKER_CALL_TIMEOUT_MS.create, signal, (abortSignal) =>
        docker.createNetwork({
          Name: ref.name,
          Driver: 'bridge',
          CheckDuplicate: true, // two creates racing make one network, the other gets 409
          Labels: { ...extraLabels, ...networkLabels(ref) },
          abortSignal,
        }),
      );
    } catch (err) {
      if (signal?.aborted || err instanceof RuntimeUnresponsiveError) throw err;
      if (!isStatus(err, 409)) {
        throw new NetworkUnavailableError(ref.name, `could not be created: ${(err as Error).message}`, err);
      }
    }
    found = await findByName(docker, ref.name, signal);
  }
  checkAdoptable(found, ref);
}

/**
 * Removes the app's own networks that no container uses any more; never the shared one. Docker
 * refuses to remove a network with endpoints (403/409): such a network is left for a later call.
 * Resolves with the names removed.
 */
export async function pruneAppNetworks(docker: Docker, instance: string, app: string, signal?: AbortSignal): Promise<string[]> {
  const ref = networkOf(instance, app, 'isolated');
  const removed: string[] = [];
  for (const info of await findByName(docker, ref.name, signal)) {
    if (!isOurs(info, ref)) continue;
    const network = docker.getNetwork(info.Id);
    try {
      // dockerode's network inspect takes no abort signal: the bound stops the waiting.
      const detail = (await dockerCall(`inspect of network ${ref.name}`, DOCKER_CALL_TIMEOUT_MS.inspect, signal, () => network.inspect())) as Docker.NetworkInspectInfo;
      if (Object.keys(detail.Containers ?? {}).length > 0) continue;
      await dockerCall(`remove of network ${ref.name}`, DOCKER_CALL_TIMEOUT_MS.remove, signal, (abortSignal) => network.remove({ abortSignal }));
      removed.push(ref.name);
    } catch (err) {
      if (!isStatus(err, 404) && !isStatus(err, 403) && !isStatus(err, 409)) throw err; // 404: already gone; 403/409: in use
    }
  }
  return removed;
}

/** Where a replica is on its network: the IP Docker gave it there, or undefined when it has not joined `name`. */
export function ipOn(info: Pick<Docker.ContainerInfo, 'NetworkSettings'>, name: string): string | undefined {
  const ip = info.NetworkSettings?.Networks?.[name]?.IPAddress;
  return ip ? ip : undefined;
}

/**
 * ensureNetwork, with concurrent calls for one name sharing one call: the creates of a scale-out
 * run in parallel and must not race to make the same network twice. Nothing is remembered after a
 * call settles, so every create sees the network as it is now (one made again after a removal by
 * hand); a lookup costs a few milliseconds beside a container's create and start.
 */
export class NetworkEnsurer {
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly docker: Docker) {}

  /** The shared call is bounded by its own calls' bounds; `signal` ends this caller's wait only. */
  ensure(ref: NetworkRef, extraLabels?: Record<string, string>, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    let call = this.pending.get(ref.name);
    if (!call) {
      call = ensureNetwork(this.docker, ref, extraLabels).finally(() => this.pending.delete(ref.name));
      this.pending.set(ref.name, call);
    }
    return untilAborted(call, signal);
  }
}

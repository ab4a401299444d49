import type Docker from 'dockerode';
import { LABEL_APP, LABEL_INSTANCE, LABEL_MANAGED, LABEL_REVISION, LABEL_SLOT } from '../../core/labels.js';
import type { Address, ReplicaFacts } from '../../core/replica.js';
import { DOCKER_CALL_TIMEOUT_MS, dockerCall } from './docker-call.js';
import { ipOn, networkOf } from './networks.js';

/** Docker's label filter of our containers: this instance's, of one app or of all. */
export function managedLabelFilter(instance: string, app?: string): string[] {
  const filters = [`${LABEL_MANAGED}=true`, `${LABEL_INSTANCE}=${instance}`];
  if (app) filters.push(`${LABEL_APP}=${app}`);
  return filters;
}

/** The network of ours a container joined (shared or its app's own), with its IP there while it runs. */
function ourNetwork(info: Docker.ContainerInfo, instance: string, app: string): { name: string; ip?: string } | undefined {
  for (const kind of ['shared', 'isolated'] as const) {
    let name: string;
    try {
      name = networkOf(instance, app, kind).name;
    } catch {
      return undefined; // labels no network name can be made of: not on ours
    }
    if (info.NetworkSettings?.Networks?.[name]) return { name, ip: ipOn(info, name) };
  }
  return undefined;
}

/**
 * A replica's facts from Docker's listing. Each port is reached at the replica's IP on our network
 * and the container port. A replica that joined none (made by an AutoServe before networks) is
 * reached at its published 127.0.0.1 port, through docker-proxy, until a rolling update replaces it.
 */
export function factsOf(info: Docker.ContainerInfo): ReplicaFacts {
  const labels = info.Labels ?? {};
  const app = labels[LABEL_APP] ?? '';
  const published: Record<number, Address> = {};
  for (const port of info.Ports ?? []) {
    if (port.PublicPort && port.Type !== 'udp' && published[port.PrivatePort] === undefined) {
      published[port.PrivatePort] = { host: port.IP ?? '127.0.0.1', port: port.PublicPort };
    }
  }
  const network = ourNetwork(info, labels[LABEL_INSTANCE] ?? '', app);
  const addresses: Record<number, Address> = {};
  if (network) {
    const ip = network.ip;
    if (ip) for (const port of info.Ports ?? []) if (port.Type !== 'udp') addresses[port.PrivatePort] = { host: ip, port: port.PrivatePort };
  } else {
    for (const [port, address] of Object.entries(published)) {
      if (address.host === '127.0.0.1') addresses[Number(port)] = { ...address, proxied: true };
    }
  }
  return {
    id: info.Id,
    name: (info.Names?.[0] ?? info.Id).replace(/^\//, ''),
    app,
    revision: labels[LABEL_REVISION] ?? '',
    slot: Number(labels[LABEL_SLOT] ?? -1),
    image: info.Image,
    state: info.State,
    // A paused replica's process is still there: its health checks, not its state, decide (a
    // paused one fails them, leaves the rotation, and is replaced only once liveness runs out).
    running: info.State === 'running' || info.State === 'paused',
    createdAtMs: info.Created * 1000,
    addresses,
    published,
    ...(network ? { network: network.name } : {}),
    labels,
  };
}

/** Every container AutoServe owns, of one app or of all. Ownership is proven by label only. */
export async function listManagedContainers(docker: Docker, instance: string, app?: string, signal?: AbortSignal): Promise<ReplicaFacts[]> {
  const infos = await dockerCall('list of containers', DOCKER_CALL_TIMEOUT_MS.list, signal, (abortSignal) =>
    docker.listContainers({ all: true, filters: { label: managedLabelFilter(instance, app) }, abortSignal }),
  );
  return infos.map(factsOf);
}

/** One container's facts by id, from the listing (its ports with their published addresses); undefined when gone. */
export async function inspectReplica(docker: Docker, id: string, signal?: AbortSignal): Promise<ReplicaFacts | undefined> {
  const [info] = await dockerCall(`inspect of ${id.slice(0, 12)}`, DOCKER_CALL_TIMEOUT_MS.inspect, signal, (abortSignal) =>
    docker.listContainers({ all: true, filters: { id: [id] }, abortSignal }),
  );
  return info ? factsOf(info) : undefined;
}

import type Docker from 'dockerode';
import { LABEL_APP, LABEL_REVISION, LABEL_SLOT, managedLabelFilter } from '../controllers/containers/labels.js';

/** What Docker tells about one of our containers; health and draining are added by the caller. */
export interface ContainerFacts {
  id: string;
  name: string;
  app: string;
  revision: string;
  slot: number;
  image: string;
  state: string; // Docker's: created, running, exited, dead, ...
  running: boolean;
  createdAtMs: number;
  /** containerPort -> published 127.0.0.1 port. */
  hostPorts: Record<number, number>;
  labels: Record<string, string>;
}

export function factsOf(info: Docker.ContainerInfo): ContainerFacts {
  const hostPorts: Record<number, number> = {};
  for (const port of info.Ports ?? []) {
    if (port.PublicPort && (port.IP === '127.0.0.1' || port.IP === undefined)) hostPorts[port.PrivatePort] = port.PublicPort;
  }
  const labels = info.Labels ?? {};
  return {
    id: info.Id,
    name: (info.Names?.[0] ?? info.Id).replace(/^\//, ''),
    app: labels[LABEL_APP] ?? '',
    revision: labels[LABEL_REVISION] ?? '',
    slot: Number(labels[LABEL_SLOT] ?? -1),
    image: info.Image,
    state: info.State,
    running: info.State === 'running',
    createdAtMs: info.Created * 1000,
    hostPorts,
    labels,
  };
}

/** Every container AutoServe owns, of one app or of all. Ownership is proven by label only. */
export async function listManagedContainers(docker: Docker, instance: string, app?: string): Promise<ContainerFacts[]> {
  const infos = await docker.listContainers({ all: true, filters: { label: managedLabelFilter(instance, app) } });
  return infos.map(factsOf);
}

// How AutoServe's nginx and health prober, on the controller's host, reach task addresses on the
// overlay network (docs/cluster.md, "Routing"). Docker gives a host no interface on an overlay, so
// a gateway container on this engine joins it (the network is attachable), the host routes the
// overlay's subnets through the gateway's docker_gwbridge address, and the gateway masquerades
// onto the overlay, so tasks on every node answer it over the overlay rather than through their
// own node's docker_gwbridge. The steps are idempotent and re-run when the gateway restarts (new
// namespace, maybe a new address). Each engine call is bounded (docker-call.ts), and so is each
// command run in the gateway's namespace.
import type Docker from 'dockerode';
import { execa } from 'execa';
import type { Logger } from 'pino';
import { inSubnet, isPeerSubnet, PEER_RANGES } from '../../core/peer-address.js';
import { sleep } from '../../core/with-timeout.js';
import { LABEL_INSTANCE, LABEL_MANAGED } from '../../core/labels.js';
import { DOCKER_CALL_TIMEOUT_MS, dockerCall } from '../docker/docker-call.js';
import { isStatus } from '../docker/docker-status.js';
import { hasImage, pullImage } from '../docker/images.js';

/** Keeps a network namespace alive and nothing else; anything with `sleep` on its PATH will do. */
export const DEFAULT_GATEWAY_IMAGE = 'busybox:stable';
const GATEWAY_COMMAND = ['sleep', '2147483647'];

export interface OverlayNetwork {
  id: string;
  name: string;
  subnets: string[];
}

/** Sends traffic for `subnet` via `nextHop` from where AutoServe runs (default: `ip route replace`). */
export type RouteInstaller = (subnet: string, nextHop: string) => Promise<void>;

/** `ip`, `nsenter` and `iptables` answer at once; a bound keeps a stuck one from holding a check. */
const COMMAND_TIMEOUT_MS = 10_000;

export const installRoute: RouteInstaller = async (subnet, nextHop) => {
  await execa('ip', ['route', 'replace', subnet, 'via', nextHop], { timeout: COMMAND_TIMEOUT_MS });
};

/** A network just created is allocated (driver, subnet) by the managers a moment later. */
const ALLOCATION_TIMEOUT_MS = 15_000;

/**
 * The attachable overlay network replicas join; created when missing (another controller may win the
 * race). Its subnets must be private (core/peer-address), as a Docker network's on one host: nginx
 * routes only to peers there.
 */
export async function ensureOverlayNetwork(docker: Docker, name: string, instance: string, signal?: AbortSignal): Promise<OverlayNetwork> {
  const inspect = async (): Promise<OverlayNetwork | undefined> => {
    const info = (await dockerCall(`inspect of network ${name}`, DOCKER_CALL_TIMEOUT_MS.inspect, signal, () => docker.getNetwork(name).inspect())) as { Id: string; Driver: string; Attachable?: boolean; IPAM?: { Config?: { Subnet?: string }[] | null } };
    if ((info.Driver !== '' && info.Driver !== 'overlay') || !info.Attachable) {
      throw new Error(`network ${name} exists but is not an attachable overlay (driver ${info.Driver}): remove it or pick another --instance`);
    }
    const subnets = (info.IPAM?.Config ?? []).flatMap((c) => (c.Subnet ? [c.Subnet] : []));
    const outside = subnets.filter((s) => s.includes('.') && !isPeerSubnet(s));
    if (outside.length > 0) {
      throw new Error(
        `network ${name}: its subnet ${outside.join(', ')} is not in a private range (${PEER_RANGES.join(', ')}); set the swarm's default address pool (docker swarm init --default-addr-pool) to a private range, or remove the network so it is made again`,
      );
    }
    return info.Driver === 'overlay' && subnets.length > 0 ? { id: info.Id, name, subnets } : undefined;
  };
  try {
    await inspect();
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
    try {
      await dockerCall(`create of network ${name}`, DOCKER_CALL_TIMEOUT_MS.create, signal, (abortSignal) =>
        docker.createNetwork({ Name: name, Driver: 'overlay', Attachable: true, CheckDuplicate: true, Labels: { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: instance }, abortSignal }),
      );
    } catch (createErr) {
      if (!isStatus(createErr, 409)) throw createErr; // created by the other controller meanwhile
    }
  }
  const deadline = Date.now() + ALLOCATION_TIMEOUT_MS;
  for (;;) {
    const network = await inspect();
    if (network) return network;
    if (Date.now() > deadline) throw new Error(`network ${name}: no subnet allocated after ${ALLOCATION_TIMEOUT_MS / 1000}s`);
    await sleep(100, signal);
    signal?.throwIfAborted();
  }
}

export interface OverlayGatewayOptions {
  docker: Docker;
  network: OverlayNetwork;
  /** The gateway container's name on this engine. */
  name: string;
  image: string;
  instance: string;
  installRoute?: RouteInstaller;
  logger: Logger;
}

interface GatewayState {
  pid: number;
  nextHop: string;
}

export class OverlayGateway {
  private configured: GatewayState | undefined;

  constructor(private readonly options: OverlayGatewayOptions) {}

  /** Makes sure the gateway runs, masquerades, and the overlay's subnets are routed through it. */
  async ensure(signal?: AbortSignal): Promise<GatewayState> {
    const { name, network, logger } = this.options;
    let state = await this.running(signal);
    if (!state) {
      await this.start(signal);
      state = await this.running(signal);
      if (!state) throw new Error(`gateway container ${name} does not run`);
    }
    if (this.configured?.pid !== state.pid) {
      // A new namespace (first start, or the gateway restarted): its NAT rule is new too.
      for (const subnet of network.subnets) await masquerade(state.pid, subnet);
      logger.info({ gateway: name, nextHop: state.nextHop, subnets: network.subnets }, 'overlay gateway ready');
    }
    for (const subnet of network.subnets) await (this.options.installRoute ?? installRoute)(subnet, state.nextHop);
    this.configured = state;
    return state;
  }

  private async running(signal: AbortSignal | undefined): Promise<GatewayState | undefined> {
    const { docker, name, network } = this.options;
    let info: { State: { Running: boolean; Pid: number }; NetworkSettings: { Networks: Record<string, { NetworkID?: string }> } };
    try {
      info = (await dockerCall(`inspect of ${name}`, DOCKER_CALL_TIMEOUT_MS.inspect, signal, (abortSignal) => docker.getContainer(name).inspect({ abortSignal }))) as typeof info;
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
    const onOverlay = Object.entries(info.NetworkSettings.Networks).some(([key, n]) => key === network.name || n.NetworkID === network.id);
    if (!onOverlay) {
      // Left over from a network of the same name that was removed and made again.
      await dockerCall(`remove of ${name}`, DOCKER_CALL_TIMEOUT_MS.remove, signal, (abortSignal) => docker.getContainer(name).remove({ force: true, abortSignal }));
      return undefined;
    }
    if (!info.State.Running || !info.State.Pid) return undefined;
    // docker_gwbridge is a hidden endpoint (not in the inspect output): its address is the
    // gateway's IPv4 address outside the overlay's subnets.
    const { stdout } = await execa('nsenter', [`--net=/proc/${info.State.Pid}/ns/net`, 'ip', '-j', '-4', 'addr', 'show'], { timeout: COMMAND_TIMEOUT_MS });
    const addresses = (JSON.parse(stdout) as { ifname: string; addr_info: { local: string }[] }[])
      .filter((link) => link.ifname !== 'lo')
      .flatMap((link) => link.addr_info.map((a) => a.local));
    const nextHop = addresses.find((a) => !network.subnets.some((subnet) => inSubnet(a, subnet)));
    return nextHop ? { pid: info.State.Pid, nextHop } : undefined;
  }

  private async start(signal: AbortSignal | undefined): Promise<void> {
    const { docker, name, image, instance, network, logger } = this.options;
    try {
      if (!(await hasImage(docker, image, signal))) {
        logger.info({ image }, 'pulling the overlay gateway image');
        await pullImage(docker, image, signal);
      }
      await dockerCall(`create of ${name}`, DOCKER_CALL_TIMEOUT_MS.create, signal, (abortSignal) =>
        docker.createContainer({
          name,
          Image: image,
          Entrypoint: GATEWAY_COMMAND,
          Cmd: [],
          Labels: { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: instance, 'autoserve.role': 'overlay-gateway' },
          HostConfig: { NetworkMode: network.name, Sysctls: { 'net.ipv4.ip_forward': '1' }, RestartPolicy: { Name: 'always' } },
          abortSignal,
        } as Docker.ContainerCreateOptions),
      );
    } catch (err) {
      if (!isStatus(err, 409)) throw err; // exists (stopped): start it
    }
    try {
      await dockerCall(`start of ${name}`, DOCKER_CALL_TIMEOUT_MS.start, signal, (abortSignal) => docker.getContainer(name).start({ abortSignal }));
    } catch (err) {
      if (!isStatus(err, 304)) throw err;
    }
  }
}

/** In the gateway's namespace: traffic onto the overlay leaves with the gateway's overlay address. */
async function masquerade(pid: number, subnet: string): Promise<void> {
  const inGateway = ['--net=/proc/' + pid + '/ns/net', 'iptables', '-t', 'nat'];
  const rule = ['POSTROUTING', '-d', subnet, '-j', 'MASQUERADE'];
  const present = await execa('nsenter', [...inGateway, '-C', ...rule], { reject: false, timeout: COMMAND_TIMEOUT_MS });
  if (present.exitCode !== 0) await execa('nsenter', [...inGateway, '-A', ...rule], { timeout: COMMAND_TIMEOUT_MS });
}


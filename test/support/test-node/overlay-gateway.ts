// How a process on a Swarm node (AutoServe's nginx and health prober, on a manager) reaches task
// addresses on an overlay network: Docker gives the host no interface on an overlay, so a
// gateway container is attached to it (the overlay must be attachable) and the node routes the
// overlay's subnet through it. The gateway masquerades onto the overlay, so tasks on every node
// answer the gateway over the overlay instead of their own node's docker_gwbridge.
//
// Research prototype for issue 16 (docs/cluster.md, "Routing"); the Swarm runtime will own the
// same steps.
import type { TestNode } from './test-cluster.js';
import { inSubnet } from './address-plan.js';
import { runCommand } from './netns.js';

export interface OverlayGateway {
  containerId: string;
  /** The gateway's address on the node's docker_gwbridge: the next hop for the overlay subnets. */
  nextHop: string;
  /** The gateway's address on the overlay. */
  overlayAddress: string;
  subnets: string[];
}

interface IpAddr {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

export async function attachOverlayGateway(node: TestNode, network: string, image: string, name = `gw-${network}`): Promise<OverlayGateway> {
  const net = (await node.docker.getNetwork(network).inspect()) as { Attachable?: boolean; IPAM: { Config: { Subnet: string }[] } };
  if (!net.Attachable) throw new Error(`overlay ${network} is not attachable: a gateway container can't join it`);
  const subnets = net.IPAM.Config.map((c) => c.Subnet);
  const container = await node.docker.createContainer({
    name,
    Image: image,
    Entrypoint: ['/bin/busybox', 'sleep', '2147483647'],
    HostConfig: { NetworkMode: network, Sysctls: { 'net.ipv4.ip_forward': '1' }, RestartPolicy: { Name: 'unless-stopped' } },
  });
  await container.start();
  const pid = ((await container.inspect()) as { State: { Pid: number } }).State.Pid;
  const inGateway = ['nsenter', `--net=/proc/${pid}/ns/net`];
  const links = JSON.parse(await runCommand([...inGateway, 'ip', '-j', '-4', 'addr', 'show'])) as IpAddr[];
  const overlayIf = links.find((l) => l.addr_info.some((a) => subnets.some((s) => inSubnet(a.local, s))));
  const bridgeIf = links.find((l) => l !== overlayIf && l.ifname !== 'lo' && l.addr_info.length > 0);
  if (!overlayIf || !bridgeIf) throw new Error(`gateway ${name}: no overlay or docker_gwbridge interface (${JSON.stringify(links)})`);
  await runCommand([...inGateway, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', overlayIf.ifname, '-j', 'MASQUERADE']);
  const nextHop = bridgeIf.addr_info[0]!.local;
  for (const subnet of subnets) await node.exec(['ip', 'route', 'replace', subnet, 'via', nextHop]);
  return { containerId: container.id, nextHop, overlayAddress: overlayIf.addr_info[0]!.local, subnets };
}

// The parts of Swarm's API objects (services, tasks, nodes) that the Swarm runtime reads, and
// the one reading of a task's state. Field names are the Engine API's.

export interface SwarmService {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  Spec: ServiceSpec;
}

export interface ServiceSpec {
  Name: string;
  Labels?: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Labels?: Record<string, string>;
      Command?: string[];
      Args?: string[];
      Env?: string[];
      Init?: boolean;
      StopGracePeriod?: number;
    };
    Resources?: { Limits?: ResourceAmounts; Reservations?: ResourceAmounts };
    RestartPolicy?: { Condition: 'none' | 'on-failure' | 'any'; Delay?: number; MaxAttempts?: number; Window?: number };
    Placement?: { Constraints?: string[] };
    Networks?: { Target: string }[];
    LogDriver?: { Name: string; Options?: Record<string, string> };
  };
  Mode: { Replicated: { Replicas: number } };
  EndpointSpec?: { Mode: 'vip' | 'dnsrr' };
}

export interface ResourceAmounts {
  NanoCPUs?: number;
  MemoryBytes?: number;
}

export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  CreatedAt: string;
  Version?: { Index: number };
  DesiredState: string;
  Status: {
    State: string;
    Err?: string;
    Message?: string;
    ContainerStatus?: { ContainerID?: string };
  };
  NetworksAttachments?: { Network: { ID: string; Spec: { Name: string } }; Addresses?: string[] }[];
}

export interface SwarmNode {
  ID: string;
  Spec: { Role?: string; Availability?: string; Labels?: Record<string, string> };
  Description?: {
    Hostname?: string;
    Platform?: { OS?: string; Architecture?: string };
    Engine?: { Labels?: Record<string, string> };
  };
  Status?: { State?: string };
}

/** Task states after which a task never runs again (Swarm makes a new task instead). */
const TERMINAL_STATES = new Set(['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);
/** Desired states of a task Swarm means to run (a restart waits in "ready" for its delay). */
const WANTED_DESIRED_STATES = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running']);

export function isTerminal(task: SwarmTask): boolean {
  return TERMINAL_STATES.has(task.Status.State);
}

/** Swarm still means to run this task (its desired state is not shutdown or remove). */
export function isWanted(task: SwarmTask): boolean {
  return WANTED_DESIRED_STATES.has(task.DesiredState);
}

/** A task the scheduler found no node for: it waits in "pending" with "no suitable node (...)". */
export function isUnschedulable(task: SwarmTask): boolean {
  return task.Status.State === 'pending' && /no suitable node/i.test(task.Status.Err ?? '');
}

export function isNodeReady(node: SwarmNode | undefined): boolean {
  return node?.Status?.State === 'ready';
}

/** Newest first, by creation time, then by Raft version (equal timestamps happen in a batch). */
export function newestFirst(a: SwarmTask, b: SwarmTask): number {
  return Date.parse(b.CreatedAt) - Date.parse(a.CreatedAt) || (b.Version?.Index ?? 0) - (a.Version?.Index ?? 0);
}

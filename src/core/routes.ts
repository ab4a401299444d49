// The routing table: the whole desired load-balancer state, built from every app's ingress and
// serving replicas. It is the only input of the nginx renderer.
import type { Address } from './replica.js';

export interface AppRoute {
  app: string;
  host: string;
  pathPrefix: string;
  /** Serving replicas' traffic addresses. Empty means the route answers 503. */
  servers: Address[];
}

export interface RouteTable {
  routes: AppRoute[];
}

/**
 * Where nginx serves the controller's own checks (which config is live, stub_status, and in Lua
 * mode replica membership): a listener no app's server block listens on, so no app host, valid
 * or not, can take or answer them. A unix socket (the own master) or a loopback address (a system
 * nginx, whose restarts we do not run, so no socket file of ours may stand in its way).
 */
export type ControlListener = { socketPath: string } | Address;

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

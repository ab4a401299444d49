// The routing table: the whole desired nginx state, built from every app's ingress and ready
// replicas. It is the only input of the nginx renderer.

export interface UpstreamServer {
  host: string; // always 127.0.0.1 here
  port: number;
}

export interface AppRoute {
  app: string;
  host: string;
  pathPrefix: string;
  /** Ready, non-draining replicas. Empty means the route answers 503. */
  servers: UpstreamServer[];
}

export interface RouteTable {
  routes: AppRoute[];
}

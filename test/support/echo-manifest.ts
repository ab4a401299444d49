// The node-echo test app (autoserve-node-echo:v1) as a manifest: a 1 s health check, a short drain,
// one surge replica, and what the traffic tests vary (count, version, a failing or moved check).

export interface EchoManifestOptions {
  replicas: number;
  /** VERSION env: a new value is a new revision. Default v1. */
  version?: string;
  /** The replica answers its health check 500 (FAIL_HEALTH=1). */
  failHealth?: boolean;
  /** Its port (PORT env, containerPort and the check's port). Default: the image's 8080, PORT unset. */
  port?: number;
  healthPath?: string;
  intervalSeconds?: number;
  drainSeconds?: number;
  progressDeadlineSeconds?: number;
}

export function echoManifest(name: string, o: EchoManifestOptions): string {
  const port = o.port ?? 8080;
  return `apiVersion: v1
kind: App
metadata:
  name: ${name}
spec:
  type: http
  image: autoserve-node-echo:v1
  replicas: ${o.replicas}
  ports:
    - containerPort: ${port}
  health:
    httpGet: { path: ${o.healthPath ?? '/healthz'}, port: ${port} }
    intervalSeconds: ${o.intervalSeconds ?? 1}
    timeoutSeconds: 1
    failureThreshold: 2
  env:
    - name: VERSION
      value: "${o.version ?? 'v1'}"
    - name: FAIL_HEALTH
      value: "${o.failHealth ? '1' : '0'}"
${o.port !== undefined ? `    - name: PORT\n      value: "${o.port}"\n` : ''}  termination:
    drainSeconds: ${o.drainSeconds ?? 1}
    stopTimeoutSeconds: 5
  rollout:
    maxSurge: 1
    progressDeadlineSeconds: ${o.progressDeadlineSeconds ?? 8}
`;
}

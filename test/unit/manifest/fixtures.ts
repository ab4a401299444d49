// Shared manifests for the manifest tests.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The seed README's full example, plus every field the seed leaves out. */
export const FULL_EXAMPLE = `
apiVersion: v1
kind: App
metadata:
  name: my-app
  labels:
    team: platform
    tier: web
spec:
  type: http
  image: my-app:latest
  command: ["/entrypoint"]
  ports:
    - containerPort: 8080
      publish: false
    - containerPort: 9090
      publish: true
      hostIP: 127.0.0.1
  network:
    isolated: false
  health:
    httpGet:
      path: /healthz
      port: 8080
    intervalSeconds: 5
    timeoutSeconds: 2
    failureThreshold: 3
    successThreshold: 1
  resources:
    cpu: 0.5
    memory: 512Mi
  replicas: 2
  scaling:
    minReplicas: 1
    maxReplicas: 10
    policy:
      mode: auto
      cooldownSeconds: 30
      http:
        targetRPSPerReplica: 50
        maxP95LatencyMs: 200
        scaleOutThresholdPct: 80
        scaleInThresholdPct: 30
        windowSeconds: 20
      cpu:
        targetUtilizationPct: 70
      memory:
        targetUtilizationPct: 80
      connections:
        targetPerReplica: 100
  env:
    - name: NODE_ENV
      value: production
    - name: REDIS_URL
      valueFrom: sdk
    - name: API_TOKEN
      valueFrom:
        env: CONTROLLER_API_TOKEN
  termination:
    drainSeconds: 30
    stopTimeoutSeconds: 10
  ingress:
    host: my-app.example.com
    pathPrefix: /
  rollout:
    maxSurge: 1
    progressDeadlineSeconds: 120
    minReadySeconds: 6
  state: up
`;

/** The smallest valid manifest. */
export function minimal(name = 'web', image = 'nginx:1.27'): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'App',
    metadata: { name },
    spec: { type: 'http', image, ports: [{ containerPort: 80 }] },
  };
}

export function minimalYaml(name = 'web', image = 'nginx:1.27'): string {
  return `apiVersion: v1\nkind: App\nmetadata:\n  name: ${name}\nspec:\n  type: http\n  image: ${image}\n  ports:\n    - containerPort: 80\n`;
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'autoserve-manifest-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

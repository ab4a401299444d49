// The one builder of App manifests for tests (unit and end-to-end).

/**
 * A small valid App manifest for the busybox demo image: a health check every second and no drain
 * wait, so tests converge fast. `spec` adds lines under spec (indented two spaces).
 */
export function appManifest(name: string, extra: { replicas?: number; image?: string; spec?: string } = {}): string {
  return [
    'apiVersion: v1',
    'kind: App',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  type: http',
    `  image: ${extra.image ?? 'autoserve-demo:v1'}`,
    `  replicas: ${extra.replicas ?? 1}`,
    '  ports:',
    '    - containerPort: 8080',
    '  health:',
    '    httpGet: { path: /healthz, port: 8080 }',
    '    intervalSeconds: 1',
    '  termination:',
    '    drainSeconds: 0',
    '    stopTimeoutSeconds: 2',
    ...(extra.spec ? [extra.spec] : []),
    '',
  ].join('\n');
}

// `autoserve describe app NAME`: spec summary, conditions, replicas and their health, recent
// events and scaling history, in one screen.
import { printable } from '../../core/printable.js';
import type { Command } from 'commander';
import { DEFAULT_PUBLISH_HOST_IP } from '../../manifest/schema.js';
import type { AppSpec } from '../../manifest/types.js';
import type { AppStatus, EventRecord, ScalingRecord } from '../../store/status-model.js';
import { clientFrom, withServerOptions, type ApiClient } from '../api-client.js';
import { CliError } from '../cli-error.js';
import { formatAge, formatTable, formatTime } from '../format.js';
import { printToStdout, type Print } from '../output.js';

const RECENT_EVENTS = 15;
const RECENT_SCALING = 10;

export async function describeApp(client: ApiClient, name: string, print: Print, now = Date.now()): Promise<void> {
  const path = `/apps/${encodeURIComponent(name)}`;
  const [app, { events }, { scalingHistory }] = await Promise.all([
    client.get<AppStatus>(path),
    client.get<{ events: EventRecord[] }>('/events', { app: name, limit: RECENT_EVENTS }),
    client.get<{ scalingHistory: ScalingRecord[] }>(`${path}/metrics`, { limit: RECENT_SCALING }),
  ]);
  // Conditions, events and commit messages quote what authors wrote: escaped, never raw.
  for (const line of formatDescription(app, events, scalingHistory, now)) print(printable(line));
}

export function formatDescription(app: AppStatus, events: EventRecord[], scaling: ScalingRecord[], now = Date.now()): string[] {
  const out: string[] = [];
  const field = (label: string, value: string) => out.push(`${`${label}:`.padEnd(16)}${value}`);
  const section = (title: string, lines: string[], empty: string) => {
    out.push('', `${title}:`);
    out.push(...(lines.length > 0 ? lines.map((l) => `  ${l}`) : [`  ${empty}`]));
  };

  field('Name', app.name);
  field('Phase', app.phase);
  if (app.file) field('File', app.file);
  if (app.spec) {
    field('Image', app.spec.image);
    field('State', app.spec.state);
    field('Ingress', `${app.spec.ingress.host}${app.spec.ingress.pathPrefix}`);
    field('Ports', app.spec.ports.map((p) => (p.publish ? `${p.containerPort} (published on ${p.hostIP ?? DEFAULT_PUBLISH_HOST_IP})` : String(p.containerPort))).join(', '));
    field('Network', app.spec.network?.isolated ? 'isolated (its own)' : 'shared');
    field('Health', app.spec.health ? `GET :${app.spec.health.httpGet.port}${app.spec.health.httpGet.path} every ${app.spec.health.intervalSeconds}s` : 'tcp connect');
    field('Scaling', scalingSummary(app.spec, app.autoscaledReplicas));
  }
  field('Replicas', `${app.replicas.desired} desired | ${app.replicas.ready} ready | ${app.replicas.updated} up-to-date`);
  field('Generation', `${app.generation} (observed ${app.observedGeneration})`);
  if (app.containerRevision) field('Container rev', app.containerRevision + (app.haltedRevision ? ` (rollout to ${app.haltedRevision} halted)` : ''));
  if (app.haltedRevision && app.stable) field('Serving rev', `${app.stable.revision} (${app.stable.spec.image})`);
  if (app.rollout) field('Rollout', `to ${app.rollout.revision} since ${formatTime(new Date(app.rollout.startedAtMs).toISOString())}, ${app.rollout.available} available at best`);
  if (app.revision) field('Source commit', `${app.revision.commit.slice(0, 12)} ${app.revision.message.split('\n')[0] ?? ''}`);
  field('Created', `${formatTime(app.createdAt)} (${formatAge(app.createdAt, now)} ago)`);

  section(
    'Conditions',
    app.conditions.length === 0 ? [] : formatTable(
      ['TYPE', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'],
      app.conditions.map((c) => [c.type, c.status, c.reason, formatAge(c.lastTransitionTime, now), c.message]),
    ),
    '<none>',
  );
  section(
    'Replicas',
    app.instances.length === 0 ? [] : replicaTable(app, now),
    '<none>',
  );
  section(
    'Events',
    events.length === 0 ? [] : formatTable(
      ['LAST SEEN', 'TYPE', 'REASON', 'COUNT', 'MESSAGE'],
      events.map((e) => [formatAge(e.time, now), e.type, e.reason, String(e.count), e.message]),
    ),
    '<none>',
  );
  section(
    'Scaling history',
    scaling.length === 0 ? [] : formatTable(
      ['TIME', 'FROM', 'TO', 'REASON'],
      scaling.map((s) => [formatTime(s.time), String(s.from), String(s.to), s.reason]),
    ),
    '<none>',
  );
  return out;
}

/**
 * One row per replica: where nginx reaches it (its address on the network it joined), the host
 * port it publishes (if any), and a NODE column when the replicas run on a cluster (Swarm).
 */
function replicaTable(app: AppStatus, now: number): string[] {
  const onNodes = app.instances.some((i) => i.node !== undefined);
  return formatTable(
    ['NAME', 'STATE', 'HEALTH', 'REVISION', 'ADDRESS', 'NETWORK', ...(onNodes ? ['NODE'] : []), 'HOST PORT', 'AGE', 'LAST CHECK'],
    app.instances.map((i) => [
      i.name,
      i.state,
      i.draining ? `${i.health} (draining)` : i.health,
      i.revision,
      i.address ?? '-',
      i.network ?? '-',
      ...(onNodes ? [i.node ?? '-'] : []),
      i.hostPort ? String(i.hostPort) : '-',
      formatAge(i.startedAt, now),
      i.lastProbe ? `${i.lastProbe.detail} (${formatAge(i.lastProbe.at, now)} ago)` : '-',
    ]),
  );
}

function scalingSummary(spec: AppSpec, autoscaled?: number): string {
  if (spec.state === 'down') return 'down (0 replicas)';
  const scaling = spec.scaling;
  if (!scaling || scaling.policy.mode === 'manual') return `manual, ${spec.replicas} replica(s)`;
  const targets: string[] = [];
  const p = scaling.policy;
  if (p.http?.targetRPSPerReplica !== undefined) targets.push(`${p.http.targetRPSPerReplica} rps/replica`);
  if (p.http?.maxP95LatencyMs !== undefined) targets.push(`p95 <= ${p.http.maxP95LatencyMs}ms`);
  if (p.cpu) targets.push(`cpu ${p.cpu.targetUtilizationPct}%`);
  if (p.memory) targets.push(`memory ${p.memory.targetUtilizationPct}%`);
  if (p.connections) targets.push(`${p.connections.targetPerReplica} conns/replica`);
  const now = autoscaled !== undefined ? `, now ${autoscaled}` : '';
  return `auto ${scaling.minReplicas}..${scaling.maxReplicas}${now} (${targets.join(', ') || 'no targets'})`;
}

export function registerDescribe(program: Command): void {
  withServerOptions(
    program
      .command('describe')
      .description('show one app in detail: spec, conditions, replicas, events, scaling history')
      .argument('<kind>', 'app')
      .argument('<name>', 'the app name'),
  ).action(async (kind: string, name: string, flags: { server?: string; token?: string }) => {
    if (kind !== 'app' && kind !== 'apps') throw new CliError('BadArgument', `unknown kind ${JSON.stringify(kind)} (try: describe app NAME)`);
    await describeApp(clientFrom(flags), name, printToStdout);
  });
}

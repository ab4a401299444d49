// `autoserve plan`: what the container controller would do now, straight from the manifests
// directory and Docker — no daemon needed. One line per action, or "no changes".
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { DEFAULT_INSTANCE } from '../../core/labels.js';
import type { ContainerAction } from '../../controllers/containers/plan-containers.js';
import { planFromWorld, type WorldPlan } from '../../controllers/containers/plan-from-world.js';
import { formatManifestError } from '../../manifest/validate-paths.js';
import { FINGERPRINT_KEY_BYTES, readFingerprintKey } from '../../secrets/fingerprint-key.js';
import { openValueSource, type ValueSource } from '../../secrets/value-source.js';
import { addValueSourceFlags, valueSourceOptionsOf } from '../value-source-flags.js';
import { RUNTIME_KINDS, type RuntimeKind } from '../../daemon/options.js';
import { DockerRuntime } from '../../runtime/docker/docker-runtime.js';
import type { ContainerRuntime } from '../../runtime/runtime.js';
import { SwarmRuntime } from '../../runtime/swarm/swarm-runtime.js';
import { CliError } from '../cli-error.js';
import { formatTable } from '../format.js';
import { printToStdout, type Print } from '../output.js';

export interface PlanOptions {
  manifestsDir: string;
  instance: string;
  /** The store file (read only); absent is fine. */
  statePath?: string;
  runtime?: ContainerRuntime;
  /** What valueFrom may read; default: nothing opened (as the controller without flags). */
  values?: ValueSource;
}

export async function showPlan(options: PlanOptions, print: Print): Promise<WorldPlan> {
  const runtime = options.runtime ?? new DockerRuntime({ logger: pino({ level: 'silent' }) });
  try {
    await runtime.ping();
  } catch (err) {
    throw new CliError('DockerUnreachable', `cannot reach the Docker engine (${err instanceof Error ? err.message : String(err)}); is dockerd running?`);
  }
  const plan = await planFromWorld({
    runtime,
    instance: options.instance,
    manifestsDir: options.manifestsDir,
    statePath: options.statePath,
    values: options.values ?? openValueSource({ env: process.env, openEnv: [], fingerprintKey: randomBytes(FINGERPRINT_KEY_BYTES) }),
  });
  for (const line of formatPlan(plan)) print(line);
  return plan;
}

export function formatPlan(plan: WorldPlan): string[] {
  const rows: string[][] = [];
  for (const app of plan.apps) {
    if (app.stalled) rows.push([app.app, 'stalled', '-', app.stalled]);
    for (const action of app.actions) rows.push([app.app, actionName(action), targetOf(action), action.reason]);
  }
  const lines = rows.length === 0 ? ['no changes'] : formatTable(['APP', 'ACTION', 'TARGET', 'REASON'], rows);
  for (const app of plan.kept) lines.push(`note: ${app} is planned at its last good spec (its manifest is invalid or unreadable)`);
  if (plan.pruneBlocked) lines.push('note: apps no manifest declares are kept (the directory has no manifest files, or a file with errors may declare them)');
  for (const error of plan.errors) lines.push(`manifest error: ${formatManifestError(error)}`);
  return lines;
}

function actionName(action: ContainerAction): string {
  if (action.kind === 'remove') return action.drain ? 'drain+remove' : 'remove';
  if (action.kind === 'haltRollout') return 'halt-rollout';
  return 'create';
}

function targetOf(action: ContainerAction): string {
  if (action.kind === 'create') return `slot ${action.slot} @ ${action.revision}`;
  if (action.kind === 'remove') return action.name;
  return action.revision;
}

export function registerPlan(program: Command): void {
  const command = program
    .command('plan')
    .description('show what the controller would do now (manifests vs Docker), without doing it; needs no daemon')
    .option('--manifests <dir>', 'directory of App manifests', 'manifests')
    .option('--state <dir>', 'state directory of the controller (its store is read, never written)', 'state')
    .option('--db-path <file>', 'store file (default: <state>/autoserve.json)')
    .option('--instance <name>', 'controller instance (label scope)', process.env.AUTOSERVE_INSTANCE ?? DEFAULT_INSTANCE)
    .option('--runtime <kind>', 'docker (this host) or swarm (run on a manager)', 'docker');
  addValueSourceFlags(command).action(async (flags: { manifests: string; state: string; dbPath?: string; instance: string; runtime: string; openEnv?: string; secretsDir?: string }) => {
    if (!(RUNTIME_KINDS as readonly string[]).includes(flags.runtime)) throw new CliError('BadArgument', `--runtime must be one of ${RUNTIME_KINDS.join(', ')}`);
    // The controller's key, so revisions match its own; without one no controller ran on this state.
    const fingerprintKey = (await readFingerprintKey(flags.state)) ?? randomBytes(FINGERPRINT_KEY_BYTES);
    const values = openValueSource({ env: process.env, ...valueSourceOptionsOf(flags), fingerprintKey });
    await showPlan(
      {
        manifestsDir: flags.manifests,
        instance: flags.instance,
        statePath: flags.dbPath ?? join(flags.state, 'autoserve.json'),
        values,
        runtime: readOnlyRuntime(flags.runtime as RuntimeKind, flags.instance),
      },
      printToStdout,
    );
  });
}

/** The runtime `plan` reads replicas through (it only lists: a Swarm runtime needs no gateway for that). */
function readOnlyRuntime(kind: RuntimeKind, instance: string): ContainerRuntime {
  const logger = pino({ level: 'silent' });
  return kind === 'swarm' ? new SwarmRuntime({ logger, instance }) : new DockerRuntime({ logger });
}

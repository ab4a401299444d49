import { join } from 'node:path';
import type { Command } from 'commander';
import { startDaemon, type Daemon } from '../../daemon/daemon.js';
import { removePidFile, writePidFile } from '../../daemon/pid-file.js';
import { lockStateDir } from '../../daemon/state-lock.js';
import { onStopSignal } from '../stop-signals.js';
import { redactUrls } from '../../source/git-command.js';
import { CONTROLLER_LOG_FILE, createControllerLog } from '../../daemon/logger.js';
import { DEFAULT_INSTANCE } from '../../core/labels.js';
import { DEFAULT_GATEWAY_IMAGE } from '../../runtime/swarm/overlay-gateway.js';
import { DEFAULT_OPTIONS, RUNTIME_KINDS, parseByteSize, parseDuration, parseNginxWorkers, resolveOptions, type RuntimeKind } from '../../daemon/options.js';
import { prepareStateDir } from '../../daemon/state-dir.js';
import { workerUserFor } from '../../render/nginx-main-view-model.js';
import {
  AUTH_TOKEN_FILE_VARIABLE,
  AUTH_TOKEN_VARIABLE,
  forgetSecretVariables,
  GIT_PASSWORD_FILE_VARIABLE,
  GIT_PASSWORD_VARIABLE,
  GIT_USERNAME_VARIABLE,
  readSecretInput,
} from '../../secrets/credential-input.js';
import { DEFAULT_GIT_USERNAME } from '../../source/git-credentials.js';
import { addValueSourceFlags, valueSourceOptionsOf } from '../value-source-flags.js';

export function registerRun(program: Command): void {
  const command = program
    .command('run')
    .description('run the controller: watch the manifests and make the host match them')
    .option('--manifests <dir>', 'directory of App manifests to watch', 'manifests')
    .option('--state <dir>', 'state directory (store, nginx prefix, logs)', 'state')
    .option('--db-path <file>', 'JSON store file (default: <state>/autoserve.json)')
    .option('--resync <duration>', 'periodic resync of every app', '30s')
    .option('--host <addr>', 'status endpoint address', DEFAULT_OPTIONS.host)
    .option('--port <port>', 'status endpoint port', String(DEFAULT_OPTIONS.port))
    .option('--lb-host <addr>', 'load balancer listen address', DEFAULT_OPTIONS.lbHost)
    .option('--lb-port <port>', 'load balancer listen port', String(DEFAULT_OPTIONS.lbPort))
    .option('--nginx-workers <n>', 'worker processes of the own nginx (default: one per core but one, at least 1)')
    .option('--nginx-conf-dir <dir>', 'manage the system nginx through this conf.d directory instead of an own master')
    .option('--allow-empty-prune', 'let an empty or missing manifest directory remove every app', false)
    .option('--auth-token-file <file>', `require Authorization: Bearer <token> on the API (all but /healthz and the dashboard page, whose login sets a read-only session cookie), the token read from this file (or ${AUTH_TOKEN_FILE_VARIABLE}, or the token itself in ${AUTH_TOKEN_VARIABLE})`)
    .option('--auth-token <token>', `the token on the command line: visible to every local user in \`ps\`; prefer --auth-token-file or ${AUTH_TOKEN_VARIABLE}`)
    .option('--enable-write-api', 'enable POST endpoints that edit manifest files (requires a token)', false)
    .option('--redact-env-values', 'the read endpoint shows literal env values of the manifests as "(redacted)"', false)
    .option('--git <url>', `git mode: clone and poll this repository instead of watching --manifests (https, ssh or file URL); https credentials go in ${GIT_USERNAME_VARIABLE}/${GIT_PASSWORD_VARIABLE} or --git-password-file, not in the URL`)
    .option('--git-password-file <file>', `git mode: password or token of the https remote, read from this file (or ${GIT_PASSWORD_FILE_VARIABLE})`)
    .option('--git-branch <branch>', 'branch to follow in git mode', 'main')
    .option('--git-path <dir>', 'subdirectory of the repository holding the manifests', '')
    .option('--git-interval <duration>', 'how often to poll the repository', '30s')
    .option('--log-level <level>', 'debug, info, warn or error', DEFAULT_OPTIONS.logLevel)
    .option('--log-max-size <size>', 'cap on all logs in the state dir together (controller log, nginx logs), rotated by size', DEFAULT_OPTIONS.logMaxSize)
    .option('--instance <name>', 'controller instance: only containers with this label value are managed', process.env.AUTOSERVE_INSTANCE ?? DEFAULT_INSTANCE)
    .option('--container-labels <json>', 'extra labels for every container, as a JSON object', process.env.AUTOSERVE_CONTAINER_LABELS)
    .option('--runtime <kind>', 'docker: this host\'s engine; swarm: a Docker Swarm, run on a manager (docs/cluster.md)', 'docker')
    .option('--swarm-gateway-image <image>', 'swarm: image of the overlay gateway container (anything with sleep)', DEFAULT_GATEWAY_IMAGE);
  addValueSourceFlags(command)
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const warnings: string[] = [];
      const authToken = readSecretInput(
        { file: flags.authTokenFile as string | undefined, value: flags.authToken as string | undefined, variable: AUTH_TOKEN_VARIABLE, fileVariable: AUTH_TOKEN_FILE_VARIABLE },
        process.env,
        (message) => warnings.push(`--auth-token: ${message}`),
      );
      const gitPassword = readSecretInput(
        { file: flags.gitPasswordFile as string | undefined, variable: GIT_PASSWORD_VARIABLE, fileVariable: GIT_PASSWORD_FILE_VARIABLE },
        process.env,
      );
      const gitUsername = process.env[GIT_USERNAME_VARIABLE] || DEFAULT_GIT_USERNAME;
      if (flags.git && /^https?:\/\/[^/]*@/i.test(flags.git as string)) {
        warnings.push('--git: credentials inside the URL are visible to every local user in the process list; use ' + `${GIT_PASSWORD_VARIABLE} or --git-password-file`);
      }
      // Read once; no child process (git, nginx) inherits them.
      forgetSecretVariables(process.env);
      const options = resolveOptions({
        manifestsDir: flags.manifests as string,
        stateDir: flags.state as string,
        dbPath: flags.dbPath as string | undefined,
        resyncMs: parseDuration(flags.resync as string),
        host: flags.host as string,
        port: Number(flags.port),
        lbHost: flags.lbHost as string,
        lbPort: Number(flags.lbPort),
        nginxConfDir: flags.nginxConfDir as string | undefined,
        ...(flags.nginxWorkers !== undefined ? { nginxWorkers: parseNginxWorkers(flags.nginxWorkers as string) } : {}),
        allowEmptyPrune: flags.allowEmptyPrune === true,
        logLevel: String(flags.logLevel).toLowerCase(),
        logMaxBytes: parseByteSize(flags.logMaxSize as string),
        instance: flags.instance as string,
        authToken,
        redactEnvValues: flags.redactEnvValues === true,
        ...valueSourceOptionsOf(flags as { openEnv?: string; secretsDir?: string }),
        gitUrl: flags.git as string | undefined,
        ...(gitPassword !== undefined ? { gitCredentials: { username: gitUsername, password: gitPassword } } : {}),
        gitBranch: flags.gitBranch as string,
        gitPath: flags.gitPath as string,
        gitIntervalMs: parseDuration(flags.gitInterval as string),
        enableWriteApi: flags.enableWriteApi === true,
        containerLabels: flags.containerLabels ? parseLabels(flags.containerLabels as string) : undefined,
        runtime: parseRuntime(flags.runtime as string),
        swarmGatewayImage: flags.swarmGatewayImage as string,
      });
      if (options.enableWriteApi && !options.authToken) throw new Error(`--enable-write-api requires a token (--auth-token-file or ${AUTH_TOKEN_VARIABLE})`);
      // The write API edits files in --manifests; in git mode the repository is the source of truth.
      if (options.enableWriteApi && options.gitUrl) throw new Error('--enable-write-api cannot be used with --git: commit to the repository instead');
      // Before anything writes there: the store, the log and nginx's prefix are the controller's alone.
      await prepareStateDir(options.stateDir, options.nginxConfDir ? undefined : workerUserFor(process.getuid?.())?.group);
      // One daemon per state dir: a second one stops here, naming the first (nothing started yet).
      const lock = await lockStateDir(options.stateDir);
      const logFile = join(options.stateDir, CONTROLLER_LOG_FILE);
      const controllerLog = createControllerLog(options.logLevel, logFile);
      const logger = controllerLog.logger;
      for (const warning of warnings) logger.warn(warning);
      // A bug in a background loop is logged, never a crash of the controller.
      process.on('unhandledRejection', (err) => logger.error({ err: String(err) }, 'unhandled rejection'));

      // From here a stop signal is orderly at any moment, start-up included: what was started is
      // stopped (a step under way finishes first), the store is flushed, and the exit code is 0.
      // App containers and nginx keep running. A second signal exits at once.
      const stopping = new AbortController();
      onStopSignal((signal) => {
        if (stopping.signal.aborted) process.exit(130);
        logger.info({ signal }, 'stopping; app containers keep running');
        stopping.abort(new Error(`stopped by ${signal}`));
      });
      let daemon: Daemon | undefined;
      process.on('SIGHUP', () => daemon?.syncNow()); // fetch now (git mode); ignored while starting
      try {
        daemon = await startDaemon(options, logger, { signal: stopping.signal, controllerLog: { file: logFile, reopen: () => controllerLog.file?.reopen() } });
      } catch (err) {
        if (!stopping.signal.aborted) throw err;
        await lock.release();
        process.exit(0); // start-up was cut short and undone
      }
      await writePidFile(options.stateDir);
      logger.info(
        { manifests: options.gitUrl ? undefined : options.manifestsDir, git: options.gitUrl ? redactUrls(options.gitUrl) : undefined, state: options.stateDir },
        'autoserve running',
      );
      await untilAborted(stopping.signal);
      try {
        await daemon.stop();
        await removePidFile(options.stateDir);
      } catch (err) {
        logger.error({ err: String(err) }, 'unclean stop');
        process.exit(1);
      }
      await lock.release();
      process.exit(0);
    });
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

function parseRuntime(kind: string): RuntimeKind {
  if (!(RUNTIME_KINDS as readonly string[]).includes(kind)) throw new Error(`--runtime must be one of ${RUNTIME_KINDS.join(', ')} (got ${JSON.stringify(kind)})`);
  return kind as RuntimeKind;
}

function parseLabels(json: string): Record<string, string> {
  const value: unknown = JSON.parse(json);
  if (!value || typeof value !== 'object' || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new Error('--container-labels must be a JSON object of strings');
  }
  return value as Record<string, string>;
}

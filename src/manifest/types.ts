// The App manifest as the rest of AutoServe sees it: validated, with every default applied.
// The JSON Schema in ./schema.ts is the source of truth for what a file may contain; these types
// describe the object after `applyDefaults`.

export interface HttpGetProbe {
  path: string;
  port: number;
}

export interface HealthSpec {
  httpGet: HttpGetProbe;
  intervalSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  successThreshold: number;
  /** Liveness: replaced after this long failing without a pass. Filled by the schema's default. */
  replaceAfterSeconds?: number;
}

export interface PortSpec {
  containerPort: number;
  /** Also publish on the host (Docker picks the host port). Default false. */
  publish: boolean;
  /** With publish: the host address; absent means 127.0.0.1. */
  hostIP?: string;
}

export interface ResourcesSpec {
  /** CPU cores, e.g. 0.5. */
  cpu?: number;
  /** Memory limit as written, e.g. "512Mi". */
  memory?: string;
}

/** Where replicas may run on a Swarm (runtime swarm only). No defaults here: absent keeps revisions stable. */
export interface PlacementSpec {
  /** Swarm constraint expressions, e.g. "node.labels.zone!=b"; all must hold. */
  constraints?: string[];
  /** "node" (default): new replicas go to the eligible nodes with the fewest replicas of the app. */
  spread?: 'node' | 'none';
}

export interface HttpPolicy {
  targetRPSPerReplica?: number;
  maxP95LatencyMs?: number;
  scaleOutThresholdPct: number;
  scaleInThresholdPct: number;
  windowSeconds: number;
}

export interface UtilizationPolicy {
  targetUtilizationPct: number;
}

export interface ConnectionsPolicy {
  targetPerReplica: number;
}

/** How fast the count follows the load (docs/autoscaling.md); every field defaulted. */
export interface ScalingBehavior {
  scaleIn: {
    /** A scale in takes the highest recommendation over this window (load that has only gone down). */
    stabilizationSeconds: number;
    /** The same, once the load came back after a dip within the recurrence memory (periodic or bursty load). */
    recurringStabilizationSeconds: number;
  };
  panic: {
    /** The fast path's window: a mean over this many seconds. */
    windowSeconds: number;
    /** Panic when the panic window asks for at least this share of the ready replicas. */
    thresholdPct: number;
  };
}

export interface ScalingPolicy {
  mode: 'auto' | 'manual';
  cooldownSeconds: number;
  /** Filled by the schema's defaults; a policy built in code may leave it out (the defaults apply). */
  behavior?: ScalingBehavior;
  http?: HttpPolicy;
  cpu?: UtilizationPolicy;
  memory?: UtilizationPolicy;
  connections?: ConnectionsPolicy;
}

export interface ScalingSpec {
  minReplicas: number;
  maxReplicas: number;
  policy: ScalingPolicy;
}

/**
 * `valueFrom` reads what the operator opened to apps: a controller variable on the open list
 * ("env"/"sdk" take the variable of the same name, {env} another one) or a file of the secrets
 * directory ({secret}).
 */
export type EnvValueFrom = 'env' | 'sdk' | { env: string } | { secret: string };

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvValueFrom;
}

export interface IngressSpec {
  host: string;
  pathPrefix: string;
}

export interface RolloutSpec {
  maxSurge: number;
  progressDeadlineSeconds: number;
  /**
   * A new replica must stay ready this long before it retires an old one and counts as progress.
   * Unset: failureThreshold x intervalSeconds of the health block (0 without one).
   */
  minReadySeconds?: number;
}

export interface AppSpec {
  type: 'http';
  image: string;
  command?: string[];
  ports: PortSpec[];
  network: { isolated: boolean };
  health?: HealthSpec;
  resources?: ResourcesSpec;
  placement?: PlacementSpec;
  /** Fixed replica count (manual mode, or no scaling block). */
  replicas: number;
  scaling?: ScalingSpec;
  env: EnvVar[];
  termination: { drainSeconds: number; stopTimeoutSeconds: number };
  ingress: IngressSpec;
  rollout: RolloutSpec;
  /** The seed's up/down: `down` stops every replica but keeps the app declared. */
  state: 'up' | 'down';
}

export interface AppManifest {
  apiVersion: 'v1';
  kind: 'App';
  metadata: { name: string; labels?: Record<string, string> };
  spec: AppSpec;
}

/** One problem with one manifest file, precise enough to fix: which file, which field, what. */
export interface ManifestError {
  file: string;
  /** JSON pointer-ish path of the offending field, e.g. "/spec/ports/0/containerPort"; "" for the whole document. */
  path: string;
  message: string;
  /** The app the document names, when it could be read. */
  app?: string;
  /** Index of the YAML document within the file (0-based). */
  document?: number;
  /** The error is a claim on a name another document also declares (duplicate-names.ts). */
  duplicate?: true;
}

/** An App loaded from disk, with where it came from. */
export interface LoadedApp {
  manifest: AppManifest;
  file: string;
  document: number;
}

/** Result of loading a directory: every valid app, every error. Invalid documents produce no app. */
export interface LoadResult {
  apps: Map<string, LoadedApp>;
  errors: ManifestError[];
  /** Number of manifest files seen (0 means the directory is empty or missing). */
  fileCount: number;
  /**
   * Valid declarations of a name that more than one document claims (none of them is in `apps`).
   * settleClashes lets the document that held the name before keep it.
   */
  clashes?: Map<string, LoadedApp[]>;
}

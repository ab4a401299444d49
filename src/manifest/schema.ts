// The JSON Schema (draft-07) of an App manifest: the single source of truth for what a file may
// contain. Ajv validates against it (and fills `default`s); schema/app.schema.json is this object
// written out for editors. Every object is closed (additionalProperties: false) so a typo'd key
// fails loudly instead of silently doing nothing.
//
// Patterns are strict on purpose: names, hosts and paths end up in container names, file names and
// nginx config, so anything that could break out of a token (";", "}", quotes, spaces, newlines,
// "$") is rejected here, at the door.

import {
  DEFAULT_COOLDOWN_SECONDS,
  DEFAULT_IDLE_SECONDS,
  DEFAULT_PANIC_THRESHOLD_PCT,
  DEFAULT_PANIC_WINDOW_SECONDS,
  DEFAULT_RECURRING_STABILIZATION_SECONDS,
  DEFAULT_SCALE_IN_THRESHOLD_PCT,
  DEFAULT_SCALE_OUT_THRESHOLD_PCT,
  DEFAULT_STABILIZATION_SECONDS,
  DEFAULT_WAKE_TIMEOUT_SECONDS,
  DEFAULT_WINDOW_SECONDS,
} from './scaling-defaults.js';

/** A failing replica is replaced after a minute without a pass: longer than a burst keeps it busy. */
export const DEFAULT_REPLACE_AFTER_SECONDS = 60;

/** DNS label: becomes a container name, a file name and an nginx upstream token. */
/** The most replicas one app may ask for (spec.replicas, scaling bounds, the write API's scale). */
export const MAX_REPLICAS = 100;
/** Docker's smallest CPU limit (NanoCpus 10^7); anything smaller would round to "no limit". */
export const MIN_CPU = 0.01;
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/**
 * A Docker image reference as Docker parses it: an optional registry host (and port), a lowercase
 * repository path, an optional tag and digest. Docker refuses an uppercase repository ("Nginx:1")
 * only when it creates a container; this says so at validation.
 */
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?/';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
export const IMAGE_PATTERN = `^(?:${DOMAIN})?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`;
/** A program argument: any text but a NUL byte (an exec argument ends at one). */
export const COMMAND_ARG_PATTERN = '^[^\\x00]*$';
export const MEMORY_PATTERN = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|K|M|G|k|m|g)?$';
export const HEALTH_PATH_PATTERN = '^/[A-Za-z0-9._~\\-/%?=&]*$';
/** Lowercase DNS labels (1-63 characters each, as DNS and nginx require) joined by dots; no wildcard, no port, no trailing dot. */
export const HOST_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$';
export const PATH_PREFIX_PATTERN = '^/[A-Za-z0-9._~\\-/]*$';
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** Any text but a NUL byte, which no process environment can carry. */
export const ENV_VALUE_PATTERN = '^[^\\u0000]*$';
/** A secret's file name in the secrets directory: no path, not hidden. */
export const SECRET_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9._-]*$';
/** Kubernetes-like label keys; the "autoserve." prefix is reserved for AutoServe's own labels. */
export const LABEL_KEY_PATTERN = '^(?!autoserve\\.)[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$';
export const LABEL_VALUE_PATTERN = '^([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?$';
/** Where a published port is bound when the manifest names no hostIP: this host only. */
export const DEFAULT_PUBLISH_HOST_IP = '127.0.0.1';
/** A canonical dotted-quad IPv4 address (no leading zeros). */
export const IPV4_PATTERN = '^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$';
/** A Swarm placement constraint: a node attribute, == or !=, and a value (docs/manifest.md, placement). */
export const CONSTRAINT_PATTERN =
  '^(node\\.(id|hostname|role|platform\\.os|platform\\.arch)|(node|engine)\\.labels\\.[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?) ?(==|!=) ?[A-Za-z0-9]([A-Za-z0-9._:-]*[A-Za-z0-9])?$';

/** Plain-words explanation of each pattern, used in error messages instead of the regex. */
export const PATTERN_HINTS: Record<string, string> = {
  [NAME_PATTERN]: 'a DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit',
  [IMAGE_PATTERN]: 'a Docker image reference: [host[:port]/]lowercase/path[:tag][@sha256:digest]',
  [COMMAND_ARG_PATTERN]: 'text without a NUL byte (no program argument can carry one)',
  [MEMORY_PATTERN]: 'a memory quantity such as 512Mi, 1Gi, 256M or 1000000',
  [HEALTH_PATH_PATTERN]: 'a URL path starting with "/" (letters, digits and . _ ~ - / % ? = &)',
  [HOST_PATTERN]: 'a lowercase hostname such as app.example.com: labels of 1 to 63 letters, digits and "-" joined by dots (no wildcard, port or trailing dot)',
  [PATH_PREFIX_PATTERN]: 'a URL path starting with "/" (letters, digits and . _ ~ - /)',
  [ENV_NAME_PATTERN]: 'an environment variable name: letters, digits and "_", not starting with a digit',
  [ENV_VALUE_PATTERN]: 'text without a NUL byte (no environment variable can carry one)',
  [SECRET_NAME_PATTERN]: 'a secret file name: letters, digits and . _ -, not starting with "." or "-"',
  [LABEL_KEY_PATTERN]:
    'a label key: letters, digits and . _ - /, starting and ending with a letter or digit; the "autoserve." prefix is reserved',
  [LABEL_VALUE_PATTERN]: 'a label value: letters, digits and . _ -, starting and ending with a letter or digit',
  [IPV4_PATTERN]: 'a dotted-quad IPv4 address such as 127.0.0.1',
  [CONSTRAINT_PATTERN]:
    'a placement constraint such as node.role==worker or node.labels.zone!=b: node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.<key> or engine.labels.<key>, then == or !=, then a value (letters, digits and . _ : -)',
};

const port = (description: string) => ({
  type: 'integer',
  minimum: 1,
  maximum: 65535,
  description,
});

const utilization = (what: string) => ({
  type: 'object',
  additionalProperties: false,
  required: ['targetUtilizationPct'],
  description: `Scale on average ${what} utilization across replicas.`,
  properties: {
    targetUtilizationPct: {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      description: `Target average ${what} utilization per replica, in percent of its limit.`,
    },
  },
});

const envName = {
  type: 'string',
  pattern: ENV_NAME_PATTERN,
  maxLength: 256,
};

export const appManifestSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'AutoServe App',
  description: 'An App manifest: one HTTP service that AutoServe runs as Docker containers behind nginx.',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'v1', description: 'Manifest format version. Always "v1".' },
    kind: { const: 'App', description: 'Resource kind. Always "App".' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      description: 'Identity of the app.',
      properties: {
        name: {
          type: 'string',
          pattern: NAME_PATTERN,
          minLength: 1,
          maxLength: 40,
          description:
            'Unique app name: a DNS label of at most 40 characters. Used in container names, file names and the default host <name>.localhost.',
        },
        labels: {
          type: 'object',
          maxProperties: 32,
          description: 'Free-form key/value labels for your own bookkeeping.',
          propertyNames: { pattern: LABEL_KEY_PATTERN, maxLength: 63 },
          additionalProperties: { type: 'string', pattern: LABEL_VALUE_PATTERN, maxLength: 63 },
        },
      },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'image', 'ports'],
      description: 'What to run and how.',
      properties: {
        type: { const: 'http', description: 'Application type. Only "http" is supported.' },
        image: {
          type: 'string',
          pattern: IMAGE_PATTERN,
          minLength: 1,
          maxLength: 255,
          description: 'Docker image reference, e.g. my-app:1.4.2 or registry.example.com/team/app@sha256:...',
        },
        command: {
          type: 'array',
          minItems: 1,
          maxItems: 64,
          items: { type: 'string', pattern: COMMAND_ARG_PATTERN, maxLength: 4096 },
          description: 'Overrides the image command (exec form, no shell), e.g. ["/entrypoint", "--port", "8080"].',
        },
        ports: {
          type: 'array',
          minItems: 1,
          maxItems: 8,
          description:
            'Ports the container listens on. The first one receives traffic from nginx, which reaches it at the replica\'s address on AutoServe\'s network; nothing is published on the host unless a port says publish: true.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['containerPort'],
            properties: {
              containerPort: port('TCP port the container listens on.'),
              publish: {
                type: 'boolean', default: false,
                description: 'Also publish this port on the host, at a host port Docker picks (each replica its own), bound to hostIP. Not needed for traffic: nginx reaches replicas on the network.',
              },
              hostIP: {
                type: 'string', pattern: IPV4_PATTERN, maxLength: 15,
                description: `With publish: the host address the port is bound to. Default ${DEFAULT_PUBLISH_HOST_IP} (this host only); 0.0.0.0 opens it on every interface.`,
              },
            },
          },
        },
        network: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'Which Docker network the replicas join. nginx and the health checks reach them there from the host.',
          properties: {
            isolated: {
              type: 'boolean', default: false,
              description: 'false: the shared network of this AutoServe instance, where apps reach each other. true: a network of the app\'s own, which other apps\' replicas cannot reach.',
            },
          },
        },
        health: {
          type: 'object',
          additionalProperties: false,
          required: ['httpGet'],
          description: 'Health probe. A replica gets traffic only after it passes, leaves the rotation after failureThreshold failures in a row and returns after successThreshold passes (readiness), and is replaced only after replaceAfterSeconds of failures without a pass (liveness); without it, a replica is ready when its first port accepts a connection.',
          properties: {
            httpGet: {
              type: 'object',
              additionalProperties: false,
              required: ['path', 'port'],
              description: 'HTTP GET probe: any 2xx or 3xx answer is healthy.',
              properties: {
                path: {
                  type: 'string',
                  pattern: HEALTH_PATH_PATTERN,
                  maxLength: 200,
                  description: 'Request path, e.g. /healthz.',
                },
                port: port('Port to probe; must be one of spec.ports[].containerPort.'),
              },
            },
            intervalSeconds: {
              type: 'integer', minimum: 1, maximum: 3600, default: 5,
              description: 'Seconds between probes.',
            },
            timeoutSeconds: {
              type: 'integer', minimum: 1, maximum: 60, default: 2,
              description: 'Seconds before a probe counts as failed.',
            },
            failureThreshold: {
              type: 'integer', minimum: 1, maximum: 100, default: 3,
              description: 'Consecutive failures before a replica leaves the rotation (not ready; it keeps running).',
            },
            successThreshold: {
              type: 'integer', minimum: 1, maximum: 100, default: 1,
              description: 'Consecutive successes before a replica (re)joins the rotation.',
            },
            replaceAfterSeconds: {
              type: 'integer', minimum: 1, maximum: 3600, default: DEFAULT_REPLACE_AFTER_SECONDS,
              description: 'A replica that fails every check for this long (from its first failure) is replaced. A busy replica that still passes now and then is never replaced for it.',
            },
          },
        },
        resources: {
          type: 'object',
          additionalProperties: false,
          description: 'Per-replica resource limits. Omitted means unlimited.',
          properties: {
            cpu: {
              type: 'number', minimum: MIN_CPU, maximum: 64,
              description: 'CPU limit in cores, e.g. 0.5. At least 0.01 (Docker\'s smallest limit).',
            },
            memory: {
              type: 'string', pattern: MEMORY_PATTERN, maxLength: 32,
              description: 'Memory limit: Ki/Mi/Gi are powers of 1024, k/K/m/M/g/G powers of 1000, no suffix is bytes. E.g. 512Mi. At least 6Mi (Docker\'s smallest limit).',
            },
          },
        },
        placement: {
          type: 'object',
          additionalProperties: false,
          description: 'Where replicas may run on a Docker Swarm (--runtime swarm); a single Docker host ignores it.',
          properties: {
            constraints: {
              type: 'array', maxItems: 16,
              items: { type: 'string', pattern: CONSTRAINT_PATTERN, maxLength: 256 },
              description: 'Swarm placement constraints; a replica runs only on nodes that satisfy all of them.',
            },
            spread: {
              enum: ['node', 'none'],
              description: '"node" (the default): each new replica goes to an eligible node with the fewest replicas of this app; "none": Swarm alone picks (fewest tasks of any service).',
            },
          },
        },
        replicas: {
          type: 'integer', minimum: 0, maximum: MAX_REPLICAS, default: 1,
          description: 'Fixed replica count, used without a scaling block or in manual mode.',
        },
        scaling: {
          type: 'object',
          additionalProperties: false,
          description: 'Autoscaling bounds and policy.',
          properties: {
            minReplicas: {
              type: 'integer', minimum: 0, maximum: 100, default: 1,
              description: 'Never scale below this many replicas. 0: scale to zero after idleSeconds without a request; the next request is held while a replica starts (also in manual mode, which then runs spec.replicas while awake).',
            },
            idleSeconds: {
              type: 'integer', minimum: 2, maximum: 86400,
              description: `With minReplicas 0: stop every replica after this many seconds without a request arriving (and none in flight). Default ${DEFAULT_IDLE_SECONDS}.`,
            },
            wakeTimeoutSeconds: {
              type: 'integer', minimum: 1, maximum: 300,
              description: `With minReplicas 0: how long a request to the sleeping app is held for a ready replica before it is answered 503 with the reason. Default ${DEFAULT_WAKE_TIMEOUT_SECONDS}.`,
            },
            startingPage: {
              type: 'boolean',
              description: 'Default false. With minReplicas 0: a browser request (Accept: text/html) to the sleeping app gets a small page that refreshes itself until the app answers, instead of being held.',
            },
            maxReplicas: {
              type: 'integer', minimum: 1, maximum: 100, default: 10,
              description: 'Never scale above this many replicas. Must be >= minReplicas.',
            },
            policy: {
              type: 'object',
              additionalProperties: false,
              default: {},
              description: 'When to scale. Several metrics may be combined; the one asking for most replicas wins.',
              properties: {
                mode: {
                  enum: ['auto', 'manual'], default: 'auto',
                  description: '"auto" lets the autoscaler decide within min/max; "manual" holds spec.replicas.',
                },
                cooldownSeconds: {
                  type: 'integer', minimum: 0, maximum: 3600, default: DEFAULT_COOLDOWN_SECONDS,
                  description: 'Minimum seconds between two scaling actions (a panic scale out does not wait for it).',
                },
                behavior: {
                  type: 'object',
                  additionalProperties: false,
                  default: {},
                  description: 'How fast the count follows the load. The defaults copy Knative (panic) and the Kubernetes HPA (stabilization).',
                  properties: {
                    scaleIn: {
                      type: 'object',
                      additionalProperties: false,
                      default: {},
                      description: 'Scale-in stabilization: a scale in goes to the highest recommendation over a window.',
                      properties: {
                        stabilizationSeconds: {
                          type: 'integer', minimum: 0, maximum: 3600, default: DEFAULT_STABILIZATION_SECONDS,
                          description: 'A scale in goes to the highest recommendation over this many seconds (load that has only gone down).',
                        },
                        recurringStabilizationSeconds: {
                          type: 'integer', minimum: 0, maximum: 3600, default: DEFAULT_RECURRING_STABILIZATION_SECONDS,
                          description: 'The stabilization window once the load came back after a dip in the last 10 minutes (periodic or bursty load). Must be >= stabilizationSeconds.',
                        },
                      },
                    },
                    panic: {
                      type: 'object',
                      additionalProperties: false,
                      default: {},
                      description: 'The fast path for sudden load (Knative\'s panic mode).',
                      properties: {
                        windowSeconds: {
                          type: 'integer', minimum: 1, maximum: 600, default: DEFAULT_PANIC_WINDOW_SECONDS,
                          description: 'The fast path: the load averaged over this many seconds.',
                        },
                        thresholdPct: {
                          type: 'number', minimum: 110, maximum: 10000, default: DEFAULT_PANIC_THRESHOLD_PCT,
                          description: 'Scale out at once, without waiting for windowSeconds or the cooldown, when the panic window asks for at least this percentage of the ready replicas.',
                        },
                      },
                    },
                  },
                },
                http: {
                  type: 'object',
                  additionalProperties: false,
                  description: 'Scale on request rate and/or latency. Set targetRPSPerReplica, maxP95LatencyMs, or both.',
                  properties: {
                    targetRPSPerReplica: {
                      type: 'number', exclusiveMinimum: 0, maximum: 1000000,
                      description: 'Requests per second one replica is expected to serve.',
                    },
                    maxP95LatencyMs: {
                      type: 'number', exclusiveMinimum: 0, maximum: 600000,
                      description: 'Scale out when the 95th percentile latency exceeds this, in milliseconds.',
                    },
                    scaleOutThresholdPct: {
                      type: 'number', minimum: 1, maximum: 1000, default: DEFAULT_SCALE_OUT_THRESHOLD_PCT,
                      description: 'Scale out when load exceeds this percentage of the target for windowSeconds.',
                    },
                    scaleInThresholdPct: {
                      type: 'number', minimum: 0, maximum: 1000, default: DEFAULT_SCALE_IN_THRESHOLD_PCT,
                      description: 'Scale in when load stays below this percentage of the target for windowSeconds. Must be < scaleOutThresholdPct.',
                    },
                    windowSeconds: {
                      type: 'integer', minimum: 1, maximum: 3600, default: DEFAULT_WINDOW_SECONDS,
                      description: 'How long a threshold must be crossed before acting.',
                    },
                  },
                },
                cpu: utilization('CPU'),
                memory: utilization('memory'),
                connections: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['targetPerReplica'],
                  description: 'Scale on concurrent connections.',
                  properties: {
                    targetPerReplica: {
                      type: 'number', exclusiveMinimum: 0, maximum: 1000000,
                      description: 'Concurrent connections one replica is expected to hold.',
                    },
                  },
                },
              },
            },
          },
        },
        env: {
          type: 'array',
          maxItems: 200,
          default: [],
          description: 'Environment variables. Each sets exactly one of value or valueFrom; names must be unique.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            oneOf: [{ required: ['value'] }, { required: ['valueFrom'] }],
            properties: {
              name: { ...envName, description: 'Variable name.' },
              value: { type: 'string', pattern: ENV_VALUE_PATTERN, maxLength: 32768, description: 'Literal value. Quote numbers and booleans in YAML.' },
              valueFrom: {
                description:
                  'Take the value from what the operator opened to apps: "env" or "sdk" read the controller variable of the same name, {env: OTHER} reads OTHER (only variables on the controller\'s --open-env list), {secret: NAME} reads the file NAME of its --secrets-dir.',
                oneOf: [
                  { enum: ['env', 'sdk'] },
                  {
                    type: 'object',
                    additionalProperties: false,
                    required: ['env'],
                    properties: { env: { ...envName, description: 'Controller variable to read (must be opened with --open-env).' } },
                  },
                  {
                    type: 'object',
                    additionalProperties: false,
                    required: ['secret'],
                    properties: {
                      secret: {
                        type: 'string', pattern: SECRET_NAME_PATTERN, maxLength: 255,
                        description: 'File name in the controller\'s --secrets-dir.',
                      },
                    },
                  },
                ],
              },
            },
          },
        },
        termination: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'Graceful shutdown of a replica.',
          properties: {
            drainSeconds: {
              type: 'integer', minimum: 0, maximum: 3600, default: 30,
              description: 'Seconds a replica keeps serving in-flight requests after nginx stops sending it new ones.',
            },
            stopTimeoutSeconds: {
              type: 'integer', minimum: 1, maximum: 300, default: 10,
              description: 'Seconds between SIGTERM and SIGKILL when the container is stopped.',
            },
          },
        },
        ingress: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'How nginx routes to the app.',
          properties: {
            host: {
              type: 'string', pattern: HOST_PATTERN, minLength: 1, maxLength: 253,
              description: 'Host name to serve. Defaults to <metadata.name>.localhost. localhost, autoserve-internal and loopback addresses are reserved.',
            },
            pathPrefix: {
              type: 'string', pattern: PATH_PREFIX_PATTERN, maxLength: 200, default: '/',
              description: 'URL path prefix to serve. No empty, "." or ".." segment (nginx normalises those away, so the route would never match).',
            },
          },
        },
        rollout: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'How a new revision replaces the old one.',
          properties: {
            maxSurge: {
              type: 'integer', minimum: 1, maximum: 100, default: 1,
              description: 'Extra replicas started at once during a rollout.',
            },
            progressDeadlineSeconds: {
              type: 'integer', minimum: 5, maximum: 3600, default: 120,
              description: 'A rollout that makes no progress for this long (counted from its start, and again from each time more new replicas were available than ever before in it) is marked failed; the old revision keeps serving at full count. The failed revision is not retried until the spec changes.',
            },
            minReadySeconds: {
              type: 'integer', minimum: 0, maximum: 3600,
              description: 'A new replica must stay ready this long before it retires an old one and counts as progress. Default: health.failureThreshold x health.intervalSeconds (0 without a health block).',
            },
          },
        },
        state: {
          enum: ['up', 'down'], default: 'up',
          description: '"down" stops every replica but keeps the app declared (status and history stay); "up" runs it.',
        },
      },
    },
  },
} as const;

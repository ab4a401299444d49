// Write calls. Each edits a manifest file in the watched directory (never the store or Docker), so
// the directory stays the single source of truth and the daemon applies the change like any edit.
import type { ApiDeps } from '../api-deps.js';
import { HttpError } from '../http-error.js';
import { isObject, readBody } from '../read-body.js';
import type { RequestContext, Router } from '../router.js';
import {
  ManifestEditError,
  editAppManifest,
  registerAppManifest,
  setReplicas,
  setScalingPolicy,
  setState,
  type EditResult,
  type ManifestMutation,
} from '../../manifest/edit-manifest.js';

import { MAX_REPLICAS } from '../../manifest/schema.js';
import { withEnvRedacted } from './apps.js';

/**
 * Adds the write routes. Without --enable-write-api they exist only to answer 405 with a clear
 * message (and an empty Allow), so a client learns why instead of guessing from a 404.
 */
export function addWriteRoutes(router: Router, deps: ApiDeps): void {
  if (!deps.enableWriteApi) {
    const refuse = () => {
      throw new HttpError(405, 'WriteApiDisabled', 'write calls are disabled; start `autoserve run` with --enable-write-api and a token (--auth-token-file or AUTOSERVE_AUTH_TOKEN)', { Allow: '' });
    };
    for (const path of ['/apps/register', '/apps/:name/up', '/apps/:name/down', '/apps/:name/scale', '/apps/:name/policy']) router.post(path, refuse);
    return;
  }
  const dir = deps.manifestsDir;
  const answer = (app: string, result: EditResult) => {
    const body = { app, file: result.file, changed: result.changed, spec: result.manifest.spec };
    return deps.redactEnvValues ? withEnvRedacted(body) : body;
  };
  const edit = async (ctx: RequestContext, mutation: ManifestMutation, what: string) => {
    const name = ctx.params.name!;
    const result = await run(() => editAppManifest(dir, name, mutation));
    deps.logger.info({ app: name, file: result.file, changed: result.changed }, `write API: ${what}`);
    ctx.res.statusCode = 202; // accepted: the daemon applies it on its next load
    return answer(name, result);
  };

  router.post('/apps/register', async (ctx) => {
    const body = await readBody(ctx.req);
    const manifest = isObject(body) && isObject(body.manifest) ? body.manifest : body;
    const result = await run(() => registerAppManifest(dir, manifest));
    const name = result.manifest.metadata.name;
    deps.logger.info({ app: name, file: result.file }, 'write API: register');
    ctx.res.statusCode = 201;
    return answer(name, result);
  });
  router.post('/apps/:name/up', (ctx) => edit(ctx, setState('up'), 'up'));
  router.post('/apps/:name/down', (ctx) => edit(ctx, setState('down'), 'down'));
  router.post('/apps/:name/scale', async (ctx) => {
    const body = await readBody(ctx.req);
    const replicas = isObject(body) ? body.replicas : undefined;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
      throw new HttpError(400, 'BadBody', `replicas must be a whole number from 0 to ${MAX_REPLICAS}`);
    }
    return edit(ctx, setReplicas(replicas), `scale to ${replicas}`);
  });
  router.post('/apps/:name/policy', async (ctx) => {
    const body = await readBody(ctx.req);
    const policy = isObject(body) ? body.policy : undefined;
    if (!(isObject(policy) || policy === 'auto' || policy === 'manual')) {
      throw new HttpError(400, 'BadBody', 'policy must be a scaling policy object, "auto" or "manual"');
    }
    return edit(ctx, setScalingPolicy(policy), 'policy');
  });
}

const STATUS_OF: Record<ManifestEditError['code'], number> = {
  AppNotFound: 404,
  AppExists: 409,
  InvalidManifest: 422,
  NotEditable: 409,
  Conflict: 409,
};

async function run(edit: () => Promise<EditResult>): Promise<EditResult> {
  try {
    return await edit();
  } catch (err) {
    if (!(err instanceof ManifestEditError)) throw err;
    throw new HttpError(STATUS_OF[err.code], err.code, err.message, {}, err.errors.length > 0 ? { errors: err.errors } : undefined);
  }
}

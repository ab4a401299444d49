// The dashboard: its page (one HTML shell for every /ui/ path; the script draws the page the path
// names), its bundled assets, and the login that turns the token into a session cookie. The shell and assets hold no data and are open; every data call behind them
// needs the token or the session cookie like any other endpoint.
import type { ApiDeps } from '../api-deps.js';
import { tokenMatches } from '../auth.js';
import { HttpError } from '../http-error.js';
import { isObject, readBody } from '../read-body.js';
import type { RequestContext, Router } from '../router.js';
import { IMMUTABLE, REVALIDATE, UiAssets, defaultUiDir, sendUiFile } from '../ui-assets.js';
import { UiSessions } from '../ui-session.js';

/** The client-side pages; each answers with the same shell. */
export const UI_PAGES = ['/ui', '/ui/apps/:name', '/ui/events'];

/**
 * The page may load only its own script and styles and talk only to this server; uPlot sets
 * element styles from script, which style-src 'unsafe-inline' allows (no script is inline).
 */
const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** Paths open without a token: the shell, its assets, the login itself. Data is never under /ui/. */
export function isOpenUiPath(pathname: string): boolean {
  return pathname === '/ui' || pathname.startsWith('/ui/');
}

export function addUiRoutes(router: Router, deps: ApiDeps, sessions: UiSessions): void {
  let loading: Promise<UiAssets | undefined> | undefined;
  const assets = async (): Promise<UiAssets> => {
    loading ??= UiAssets.load(deps.uiDir ?? defaultUiDir());
    const loaded = await loading;
    if (!loaded) {
      loading = undefined; // built later: look again next time
      throw new HttpError(503, 'UiNotBuilt', 'the dashboard is not built; run `npm run build`');
    }
    return loaded;
  };
  // Read and compressed at start, so the first page view does not wait for it.
  void assets().catch(() => undefined);

  for (const page of UI_PAGES) {
    router.get(page, async ({ req, res }) => {
      sendUiFile(req, res, (await assets()).page, REVALIDATE, PAGE_HEADERS);
      return undefined;
    });
  }
  router.get('/ui/assets/:file', async ({ req, res, params }) => {
    const file = (await assets()).asset(params.file!);
    if (!file) throw new HttpError(404, 'NotFound', `no such asset: ${params.file}`);
    sendUiFile(req, res, file, IMMUTABLE);
    return undefined;
  });

  router.get('/ui/session', ({ req }) => ({
    authRequired: deps.authToken !== undefined,
    authenticated: deps.authToken === undefined || sessions.isValid(req),
  }));
  router.post('/ui/login', (ctx) => login(ctx, deps, sessions));
  router.post('/ui/logout', ({ res }) => {
    res.setHeader('Set-Cookie', UiSessions.clearCookie());
    return { authenticated: false };
  });
}

async function login({ req, res }: RequestContext, deps: ApiDeps, sessions: UiSessions) {
  if (deps.authToken === undefined) {
    throw new HttpError(409, 'AuthDisabled', 'this controller runs without an API token: the dashboard needs no login');
  }
  const body = await readBody(req);
  const token = isObject(body) && typeof body.token === 'string' ? body.token : '';
  if (!tokenMatches(token, deps.authToken)) {
    throw new HttpError(401, 'Unauthorized', 'wrong token');
  }
  res.setHeader('Set-Cookie', sessions.issueCookie());
  return { authenticated: true };
}

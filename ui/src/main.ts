// The dashboard shell: checks the session (login form when a token is needed), opens the live
// feed, and draws the page the path names; links change pages without a reload.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { Unauthorized, getJson, postJson, type SessionState } from './api.js';
import { h, replaceChildren } from './dom.js';
import { LiveFeed } from './live.js';
import type { Page, PageFactory } from './page.js';
import { appPage } from './pages/app.js';
import { appsPage } from './pages/apps.js';
import { eventsPage } from './pages/events.js';
import { showLogin } from './pages/login.js';

const ROUTES: { path: RegExp; page: PageFactory; nav: string }[] = [
  { path: /^\/ui\/?$/, page: appsPage, nav: 'apps' },
  { path: /^\/ui\/apps\/([^/]+)\/?$/, page: appPage, nav: 'apps' },
  { path: /^\/ui\/events\/?$/, page: eventsPage, nav: 'events' },
];

const main = document.getElementById('main')!;
const logout = document.getElementById('logout') as HTMLButtonElement;
/** After the live stream drops, look again this long after (and as often while unreachable). */
const RECONNECT_MS = 2_000;
const live = new LiveFeed(document.getElementById('live')!, () => reconnect());
let current: Page | undefined;
let session: SessionState = { authRequired: false, authenticated: false };

function render(): void {
  current?.destroy();
  current = undefined;
  const route = ROUTES.find((r) => r.path.test(location.pathname));
  for (const a of document.querySelectorAll<HTMLElement>('[data-nav]')) a.classList.toggle('active', a.dataset.nav === route?.nav);
  if (!route) {
    replaceChildren(main, h('p', { class: 'empty' }, 'No such page.'));
    return;
  }
  const params = (route.path.exec(location.pathname) ?? []).slice(1).map(decodeURIComponent);
  current = route.page({ main, params, query: new URLSearchParams(location.search), live, fail });
}

/** A lost session shows the login form; any other failure a notice above the page. */
function fail(err: unknown): void {
  if (err instanceof Unauthorized) {
    live.stop();
    current?.destroy();
    current = undefined;
    showLogin(main, () => void start());
    return;
  }
  const notice = document.getElementById('notice') ?? main.insertAdjacentElement('afterbegin', h('p', { id: 'notice', class: 'error', role: 'alert' }))!;
  notice.textContent = err instanceof Error ? err.message : String(err);
}

/** Starts again once the controller answers: a new stream and a fresh page, or the login form. */
function reconnect(): void {
  setTimeout(() => void start().catch(() => reconnect()), RECONNECT_MS);
}

async function start(): Promise<void> {
  session = await getJson<SessionState>('/ui/session');
  logout.hidden = !session.authRequired || !session.authenticated;
  if (!session.authenticated) return fail(new Unauthorized());
  live.start();
  render();
}

document.addEventListener('click', (event) => {
  const a = (event.target as Element).closest?.('a[data-link]') as HTMLAnchorElement | null;
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  if (a.pathname + a.search !== location.pathname + location.search) history.pushState(null, '', a.pathname + a.search);
  if (session.authenticated) render();
});
window.addEventListener('popstate', () => session.authenticated && render());
logout.addEventListener('click', () => {
  void postJson('/ui/logout', {}).then(() => {
    session.authenticated = false;
    logout.hidden = true;
    fail(new Unauthorized());
  });
});

void start().catch(fail);

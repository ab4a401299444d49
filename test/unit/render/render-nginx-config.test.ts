import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AppRoute, RouteTable } from '../../../src/core/routes.js';
import { PRINT_HELPERS } from '../../../src/render/handlebars-helpers.js';
import { InvalidRouteError, buildViewModel } from '../../../src/render/nginx-view-model.js';
import { defaultAppsConfPath, renderAppsConf, renderMainConf } from '../../../src/render/render-nginx-config.js';

const opts = {
  listen: { host: '127.0.0.1', port: 8080 },
  prefixDir: '/srv/autoserve/nginx',
  logsDir: '/srv/autoserve/logs',
  pidFile: '/srv/autoserve/nginx/nginx.pid',
  control: { socketPath: '/srv/autoserve/nginx/control/control.sock' },
};
const mainOpts = { ...opts, appsConfPath: defaultAppsConfPath(opts.prefixDir) };
const s = (port: number) => ({ host: '127.0.0.1', port });
const route = (over: Partial<AppRoute>): AppRoute => ({ app: 'web', host: 'web.localhost', pathPrefix: '/', servers: [s(9000)], ...over });
const table = (...routes: AppRoute[]): RouteTable => ({ routes });

describe('hostile route values never reach the config', () => {
  const hostile = [';', '}', '{', '"', "'", '\n', '$host', 'a b', 'x'.repeat(1100), 'ünï', '\u0000', '#'];
  const fields: (keyof AppRoute)[] = ['app', 'host', 'pathPrefix'];
  for (const field of fields) {
    it.each(hostile.map((h) => [JSON.stringify(h).slice(0, 20), h]))(`${field} = %s throws InvalidRouteError`, (_l, h) => {
      const value = field === 'pathPrefix' ? `/${h}` : `ok${h}`;
      expect(() => renderAppsConf(table(route({ [field]: value })), opts)).toThrow(InvalidRouteError);
    });
  }

  it('names the offending app', () => {
    try {
      renderAppsConf(table(route({ app: 'bad', host: 'x;y' })), opts);
      expect.unreachable();
    } catch (err) {
      expect((err as InvalidRouteError).app).toBe('bad');
    }
  });

  it.each([{ host: '8.8.8.8', port: 80 }, { host: '127.0.0.1', port: 0 }, { host: '127.0.0.1;', port: 80 }])('upstream %j throws', (server) => {
    expect(() => renderAppsConf(table(route({ servers: [server] })), opts)).toThrow(InvalidRouteError);
  });

  it.each(['/logs;x', '/logs/$x', '/logs\nerror_log /etc/passwd', '/lo{gs'])('logsDir %j throws', (logsDir) => {
    expect(() => renderAppsConf(table(route({})), { ...opts, logsDir })).toThrow();
  });

  it.each(['/p;x', '/p/${x}', '/p}'])('prefixDir/pidFile %j throws', (bad) => {
    expect(() => renderMainConf({ ...mainOpts, prefixDir: bad })).toThrow();
    expect(() => renderMainConf({ ...mainOpts, pidFile: bad })).toThrow();
  });
});

describe('buildViewModel', () => {
  it('groups by host, sorts, marks empty upstreams and missing root locations', () => {
    const vm = buildViewModel(
      table(
        route({ app: 'web', servers: [s(9002), s(9001), s(9001)] }),
        route({ app: 'api', pathPrefix: '/api', servers: [] }),
        route({ app: 'docs', host: 'Docs.localhost', pathPrefix: '/docs' }),
      ),
      opts,
    );
    expect(vm.upstreams).toEqual([
      { app: 'docs', servers: [s(9000)] },
      { app: 'web', servers: [s(9001), s(9002)] },
    ]);
    expect(vm.servers).toEqual([
      {
        host: 'docs.localhost',
        needsFallback404: true,
        locations: [{ app: 'docs', pathPrefix: '/docs', accessLog: '/srv/autoserve/logs/access-docs.log', hasServers: true }],
      },
      {
        host: 'web.localhost',
        needsFallback404: false,
        locations: [
          { app: 'web', pathPrefix: '/', accessLog: '/srv/autoserve/logs/access-web.log', hasServers: true },
          { app: 'api', pathPrefix: '/api', accessLog: '/srv/autoserve/logs/access-api.log', hasServers: false },
        ],
      },
    ]);
  });

  it('gives the same config id whatever the order of routes and servers', () => {
    const a = buildViewModel(table(route({ app: 'a', host: 'a.localhost', servers: [s(1), s(2)] }), route({ app: 'b' })), opts);
    const b = buildViewModel(table(route({ app: 'b' }), route({ app: 'a', host: 'a.localhost', servers: [s(2), s(1)] })), opts);
    expect(a.configId).toBe(b.configId);
    const c = buildViewModel(table(route({ app: 'b' }), route({ app: 'a', host: 'a.localhost', servers: [s(2)] })), opts);
    expect(c.configId).not.toBe(a.configId);
  });
});

describe('renderAppsConf and renderMainConf', () => {
  const rendered = {
    appsConf: renderAppsConf(table(route({ servers: [s(9000), s(9001)] }), route({ app: 'api', pathPrefix: '/api', servers: [] })), opts).text,
    mainConf: renderMainConf({ ...mainOpts, workerUser: { user: 'nobody', group: 'nogroup' } }),
  };

  it('renders an upstream per app with servers only', () => {
    expect(rendered.appsConf).toContain(
      'upstream as_web {\n    server 127.0.0.1:9000 max_fails=0;\n    server 127.0.0.1:9001 max_fails=0;\n    keepalive 256;\n}',
    );
    expect(rendered.appsConf).not.toContain('upstream as_api');
  });

  it('answers 503 JSON for an app without replicas, in the same server block', () => {
    expect(rendered.appsConf.match(/server_name "web.localhost";/g)).toHaveLength(1);
    expect(rendered.appsConf).toContain(`return 503 '{"error":"no_ready_replicas","app":"api"}';`);
  });

  it('proxies with keep-alive, retries and forwarded headers', () => {
    for (const line of [
      'listen 127.0.0.1:8080;',
      'listen 127.0.0.1:8080 default_server;',
      'location "/" {',
      'proxy_pass http://as_web;',
      'proxy_http_version 1.1;',
      'proxy_set_header Connection "";',
      'proxy_next_upstream error timeout http_502 http_503;',
      'proxy_next_upstream_tries 3;',
      'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      'access_log "/srv/autoserve/logs/access-web.log" autoserve_json buffer=64k flush=1s;',
      'stub_status;',
      'log_format autoserve_json escape=json',
    ]) {
      expect(rendered.appsConf).toContain(line);
    }
  });

  it('keeps the own master under its prefix', () => {
    expect(rendered.mainConf).toContain('pid "/srv/autoserve/nginx/nginx.pid";');
    expect(rendered.mainConf).toContain('user "nobody" "nogroup";');
    expect(rendered.mainConf).toContain('proxy_temp_path "/srv/autoserve/nginx/temp/proxy";');
    expect(rendered.mainConf).toContain('include "/srv/autoserve/nginx/conf/apps.conf";');
    expect(rendered.mainConf).toContain('error_log "/srv/autoserve/logs/error.log" warn;');
  });

  it('renders no server blocks for apps when the table is empty, but keeps the default server', () => {
    const empty = renderAppsConf(table(), opts).text;
    expect(empty).not.toMatch(/^upstream /m);
    expect(empty).toContain('default_server');
  });
});

describe("the controller's checks live on the control listener only", () => {
  /** Top-level server blocks of an apps conf: their listen arguments and whether they serve /_autoserve/. */
  function serverBlocks(text: string): { listens: string[]; internal: boolean }[] {
    return text.split(/^server \{$/m).slice(1).map((block) => {
      const body = block.slice(0, block.search(/^\}$/m));
      return { listens: [...body.matchAll(/^ {4}listen (.+?)( default_server)?;$/gm)].map((m) => m[1]!), internal: body.includes('/_autoserve/') };
    });
  }
  const controls = [
    { control: { socketPath: '/srv/autoserve/nginx/control/control.sock' }, listen: '"unix:/srv/autoserve/nginx/control/control.sock"' },
    { control: { host: '127.0.0.2', port: 8080 }, listen: '"127.0.0.2:8080"' },
  ];
  const hosts = ['localhost', 'autoserve-internal', 'x.autoserve-internal', '127.0.0.1', 'web.localhost', 'a.b'];

  for (const { control, listen } of controls) {
    for (const luaBalancer of [false, true]) {
      it(`${listen}, lua ${luaBalancer}: whatever hosts apps take, only the control server serves /_autoserve/ and no app listens there`, () => {
        const routes = hosts.map((host, i) => route({ app: `app${i}`, host, servers: [s(9000 + i)] }));
        const blocks = serverBlocks(renderAppsConf(table(...routes), { ...opts, control, luaBalancer }).text);
        const internal = blocks.filter((b) => b.internal);
        expect(internal).toEqual([{ listens: [listen], internal: true }]);
        for (const block of blocks.filter((b) => !b.internal)) expect(block.listens).toEqual(['127.0.0.1:8080']);
        expect(blocks.length).toBe(hosts.length + 2); // one per host, the default server, the control server
      });
    }
  }

  it('refuses the public address as the control listener, and a control address off loopback', () => {
    expect(() => renderAppsConf(table(), { ...opts, control: { host: '127.0.0.1', port: 8080 } })).toThrow(/is the public listener/);
    expect(() => renderAppsConf(table(), { ...opts, control: { host: '10.0.0.1', port: 9000 } })).toThrow(/127\.0\.0\.0\/8/);
    // Another loopback address on the public port is its own listener (nginx picks the most specific address).
    expect(() => renderAppsConf(table(), { ...opts, listen: { host: '0.0.0.0', port: 8080 }, control: { host: '127.0.0.2', port: 8080 } })).not.toThrow();
  });
});

describe('templates only print', () => {
  const dir = new URL('../../../src/render/templates/', import.meta.url);
  const allowed = new RegExp(`^(#each |/each$|#if |/if$|else$|(${PRINT_HELPERS.join('|')}) )`);
  for (const file of readdirSync(dir)) {
    it(`${file} prints values only through helpers`, () => {
      const text = readFileSync(new URL(file, dir), 'utf8');
      const mustaches = [...text.matchAll(/\{\{\{?([^}]*)\}?\}\}/g)].map((m) => (m[1] ?? '').trim());
      expect(mustaches.length).toBeGreaterThan(0);
      expect(mustaches.filter((m) => !allowed.test(m))).toEqual([]);
    });
  }
});

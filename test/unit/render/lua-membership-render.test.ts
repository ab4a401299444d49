import { describe, expect, it } from 'vitest';
import type { AppRoute, RouteTable } from '../../../src/core/routes.js';
import { buildMembership, membershipBody, sameMembership } from '../../../src/render/membership.js';
import { InvalidRouteError, buildViewModel } from '../../../src/render/nginx-view-model.js';
import { defaultAppsConfPath, luaBalancerSource, renderAppsConf, renderMainConf } from '../../../src/render/render-nginx-config.js';

const opts = { listen: { host: '127.0.0.1', port: 8080 }, logsDir: '/srv/autoserve/logs', control: { socketPath: '/srv/autoserve/nginx/control/control.sock' } };
const lua = { ...opts, luaBalancer: true };
const s = (port: number) => ({ host: '127.0.0.1', port });
const route = (over: Partial<AppRoute>): AppRoute => ({ app: 'web', host: 'web.localhost', pathPrefix: '/', servers: [s(9000)], ...over });
const table = (...routes: AppRoute[]): RouteTable => ({ routes });

describe('apps conf in lua membership mode', () => {
  const rendered = renderAppsConf(table(route({ servers: [s(9001), s(9002)] }), route({ app: 'api', pathPrefix: '/api', servers: [] })), lua);

  it('renders no peer: a placeholder and balancer_by_lua per app, with or without servers, keepalive kept', () => {
    expect(rendered.text).not.toMatch(/9001|9002/);
    expect(rendered.text).toContain(
      [
        'upstream as_web {',
        '    # Placeholder, never dialled: the Lua balancer picks every peer (POSTed, not rendered).',
        '    server 127.0.0.1:1 max_fails=0;',
        '    balancer_by_lua_block {',
        '        require("autoserve_balancer").balance("web")',
        '    }',
      ].join('\n'),
    );
    expect(rendered.text).toMatch(/balance\("web"\)\n    }\n.*\n    keepalive 256;\n}/);
    expect(rendered.text).toContain('upstream as_api {');
  });

  it('a zero-server app proxies too: its failed pick is answered with the 503 JSON', () => {
    for (const app of ['web', 'api']) {
      expect(rendered.text).toContain(`error_page 500 =503 @autoserve_no_peers_${app};`);
      expect(rendered.text).toContain(`location @autoserve_no_peers_${app} {`);
    }
    expect(rendered.text).toContain(`return 503 '{"error":"no_ready_replicas","app":"api"}';`);
  });

  it('serves the membership endpoint only on the control socket, not on the public listener', () => {
    expect(rendered.text).toContain('listen "unix:/srv/autoserve/nginx/control/control.sock";');
    const controlServer = rendered.text.slice(rendered.text.indexOf('listen "unix:'));
    expect(controlServer).toMatch(/location = \/_autoserve\/membership \{/);
    expect(rendered.text.slice(0, rendered.text.indexOf('listen "unix:'))).not.toContain('_autoserve/membership');
    expect(rendered.text).toContain('require("autoserve_balancer").membership()');
    expect(renderAppsConf(table(route({})), opts).text).not.toContain('_autoserve/membership');
  });

  it('membership changes, 0 <-> >0 servers included, change neither the text nor the config id', () => {
    const a = renderAppsConf(table(route({ servers: [s(1)] })), lua);
    const b = renderAppsConf(table(route({ servers: [s(2), s(3)] })), lua);
    const none = renderAppsConf(table(route({ servers: [] })), lua);
    expect(b).toEqual(a);
    expect(none).toEqual(a);
  });

  it('has its own config id: a reload-mode config is never mistaken for it', () => {
    const t = table(route({}));
    expect(buildViewModel(t, lua).configId).not.toBe(buildViewModel(t, opts).configId);
  });

  it('still rejects hostile values, peers included', () => {
    for (const bad of [route({ app: 'we;b' }), route({ host: 'x;y' }), route({ pathPrefix: '/a{' }), route({ servers: [{ host: '8.8.8.8', port: 80 }] }), route({ servers: [s(0)] })]) {
      expect(() => renderAppsConf(table(bad), lua)).toThrow(InvalidRouteError);
    }
  });
});

describe('apps conf for an app that scales to zero (hold)', () => {
  const hold = { timeoutSeconds: 30, startingPage: true };
  const asleep = renderAppsConf(table(route({ servers: [], hold }), route({ app: 'api', pathPrefix: '/api', servers: [] })), lua);
  const awake = renderAppsConf(table(route({ servers: [s(9001)], hold }), route({ app: 'api', pathPrefix: '/api', servers: [] })), lua);

  it('keeps proxying with no server: the upstream, the hold before it and the in-flight count after it', () => {
    expect(asleep.text).toContain('upstream as_web {');
    expect(asleep.text).toContain('set $autoserve_counted "";');
    expect(asleep.text).toContain('require("autoserve_balancer").hold("web", 30, true)');
    expect(asleep.text).toContain('require("autoserve_balancer").done("web")');
    expect(asleep.text).toContain('proxy_pass http://as_web;');
    const location = asleep.text.slice(asleep.text.indexOf('set $autoserve_app "web";'));
    expect(location.slice(0, location.indexOf('\n    }\n'))).not.toContain('return 503');
    // The no-peer fallback (a pick racing a membership change) still ends the in-flight count.
    const fallback = asleep.text.slice(asleep.text.indexOf('location @autoserve_no_peers_web {'));
    expect(fallback.slice(0, fallback.indexOf('}\n    }'))).toContain('done("web")');
    expect(asleep.text).not.toContain('hold("api"');
  });

  it('sleeping and waking change no text (no reload): only the membership moves', () => {
    expect(awake).toEqual(asleep);
  });

  it('renders the hold only with the Lua balancer: in reload mode a sleeping app answers 503', () => {
    const reload = renderAppsConf(table(route({ servers: [], hold })), opts).text;
    expect(reload).not.toMatch(/lua/);
    expect(reload).toContain(`return 503 '{"error":"no_ready_replicas","app":"web"}';`);
  });

  it('serves the activity endpoint only on the control socket', () => {
    const controlAt = asleep.text.indexOf('listen "unix:');
    expect(asleep.text.slice(controlAt)).toContain('location = /_autoserve/activity {');
    expect(asleep.text.slice(0, controlAt)).not.toContain('_autoserve/activity');
  });

  it('rejects a hold timeout that is not a positive integer', () => {
    for (const timeoutSeconds of [0, -1, 1.5, Number.NaN]) {
      expect(() => renderAppsConf(table(route({ hold: { timeoutSeconds, startingPage: false } })), lua)).toThrow(InvalidRouteError);
    }
  });
});

describe('main conf in lua membership mode', () => {
  const base = { logsDir: opts.logsDir, prefixDir: '/srv/autoserve/nginx', pidFile: '/srv/autoserve/nginx/nginx.pid', appsConfPath: defaultAppsConfPath('/srv/autoserve/nginx') };

  it('loads the modules by absolute path and declares the dict, the package path and the seeding', () => {
    const main = renderMainConf({ ...base, luaModulesDir: '/usr/lib/nginx/modules' });
    expect(main).toMatch(/^load_module "\/usr\/lib\/nginx\/modules\/ndk_http_module\.so";\nload_module "\/usr\/lib\/nginx\/modules\/ngx_http_lua_module\.so";$/m);
    expect(main).toContain('lua_shared_dict autoserve_peers 10m;');
    expect(main).toContain('lua_shared_dict autoserve_zero 4m;');
    expect(main).toContain('lua_package_path "${prefix}lua/?.lua;;";');
    expect(main).toContain('require("autoserve_balancer").init()');
  });

  it('reload mode (and a system nginx include) has no Lua at all', () => {
    expect(renderMainConf(base)).not.toMatch(/lua/);
    expect(renderAppsConf(table(route({})), opts).text).not.toMatch(/lua/);
  });

  it('rejects an unsafe modules dir', () => {
    expect(() => renderMainConf({ ...base, luaModulesDir: '/mods;x' })).toThrow();
  });

  it('ships the balancer source beside the templates', () => {
    expect(luaBalancerSource()).toContain('function M.balance(app)');
  });
});

describe('buildMembership', () => {
  it('dedupes and sorts peers, keeps zero-server apps, leaves out and names apps with unsafe values', () => {
    const { apps, invalid } = buildMembership(
      table(
        route({ servers: [s(9002), s(9001), s(9002)] }),
        route({ app: 'empty', servers: [] }),
        route({ app: 'evil', servers: [{ host: '8.8.8.8', port: 80 }] }),
        route({ app: 'Bad;' }),
      ),
    );
    expect(apps).toEqual({ empty: [], web: ['127.0.0.1:9001', '127.0.0.1:9002'] });
    expect(invalid).toEqual(['evil', 'Bad;']);
    expect(membershipBody(apps)).toBe('{"apps":{"empty":[],"web":["127.0.0.1:9001","127.0.0.1:9002"]}}');
    expect(sameMembership({ b: ['x'], a: [] }, { a: [], b: ['x'] })).toBe(true);
    expect(sameMembership({ a: [] }, {})).toBe(false);
  });
});

// Recovery times: after a dockerd restart (SIGTERM, started again, no live-restore) with 5 apps x 4
// replicas, and after kill -9 of the nginx master under load. AutoServe runs as the real CLI on a
// test node of its own (a private dockerd the bench may stop); medians of --runs.
//
//   npx tsx bench/recovery.bench.ts [--runs 3] [--apps 5] [--replicas 4]     (root; ~1 min per run)
//
// dockerd restart: "serving" = every app answers 200 through nginx again, "converged" = every app
// has all its replicas, ready and routed, and nothing else; both from the moment dockerd answers
// again (its own restart time is reported beside them). nginx kill -9: "serving" = a new master of
// ours answers for the app, from the kill; failed requests of a 50 req/s load through nginx.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoadGenerator } from '../test/support/load-generator.js';
import { NODE_LB_PORT, startNodeDaemon } from '../test/support/node-daemon.js';
import { arg, median, printTable } from './bench-util.js';
import { assertDistFresh } from './dist-fresh.mjs';

assertDistFresh(); // this bench runs the built CLI

const runs = Number(arg('runs', '3'));
const appCount = Number(arg('apps', '5'));
const replicas = Number(arg('replicas', '4'));
const apps = Array.from({ length: appCount }, (_, i) => ({ name: `app${i}`, replicas }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => (ms / 1000).toFixed(2);

const nd = await startNodeDaemon({ purpose: 'bench recovery', apps });
const restart = { down: [] as number[], serving: [] as number[], converged: [] as number[] };
const nginxKill = { serving: [] as number[], failed: [] as number[], sent: [] as number[] };
try {
  await nd.waitConverged();
  for (let run = 1; run <= runs; run++) {
    await nd.waitConverged();
    const stoppedAt = Date.now();
    await nd.node.stopDockerd('SIGTERM');
    await nd.node.startDockerd();
    const answeringAt = Date.now();
    const served = await Promise.all(apps.map((a) => nd.timeUntilServed(a.name, 60_000)));
    await nd.waitConverged(120_000);
    restart.down.push(answeringAt - stoppedAt);
    restart.serving.push(Math.max(...served));
    restart.converged.push(Date.now() - answeringAt);
    console.error(`run ${run} dockerd restart: down ${seconds(answeringAt - stoppedAt)} s, all serving ${seconds(Math.max(...served))} s, converged ${seconds(Date.now() - answeringAt)} s`);

    await nd.waitConverged();
    const load = new LoadGenerator({ host: nd.address, port: NODE_LB_PORT, hostHeader: 'app0.localhost', ratePerSec: 50, durationMs: 10_000, timeoutMs: 3_000, isOk: (s) => s === 200 });
    const loading = load.run();
    await sleep(2_000);
    const pidFile = join(nd.dir, 'state', 'nginx', 'nginx.pid');
    const master = Number((await readFile(pidFile, 'utf8')).trim());
    const killedAt = Date.now();
    process.kill(master, 'SIGKILL');
    for (;;) {
      const now = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (now && now !== master && (await nd.serves('app0', 500))) break;
      if (Date.now() - killedAt > 30_000) throw new Error('nginx did not serve again within 30 s');
      await sleep(25);
    }
    const servingMs = Date.now() - killedAt;
    const result = await loading;
    nginxKill.serving.push(servingMs);
    nginxKill.failed.push(result.failed);
    nginxKill.sent.push(result.sent);
    console.error(`run ${run} nginx kill -9: serving again ${seconds(servingMs)} s, failed ${result.failed}/${result.sent}`);
  }
} finally {
  await nd.destroy();
}

console.log(`\n${apps.length} apps x ${replicas} replicas, ${runs} run(s), medians:\n`);
printTable(
  ['fault', 'recovery', 'median', 'runs'],
  [
    ['dockerd restart (SIGTERM, no live-restore)', 'dockerd down (its own stop + start)', `${seconds(median(restart.down))} s`, restart.down.map(seconds).join(', ')],
    ['', 'every app serving again, after dockerd answers', `${seconds(median(restart.serving))} s`, restart.serving.map(seconds).join(', ')],
    ['', `all ${apps.length * replicas} replicas ready and routed, after dockerd answers`, `${seconds(median(restart.converged))} s`, restart.converged.map(seconds).join(', ')],
    ['nginx master kill -9 (50 req/s)', 'a new master serving, after the kill', `${seconds(median(nginxKill.serving))} s`, nginxKill.serving.map(seconds).join(', ')],
    ['', 'failed requests', `${median(nginxKill.failed)}`, nginxKill.failed.map((f, i) => `${f}/${nginxKill.sent[i]}`).join(', ')],
  ],
);

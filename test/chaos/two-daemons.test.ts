// Issue 10 item 12: two daemons on one state dir. The second exits at once with a clear error that
// names the first's pid; a daemon killed with -9 leaves no stuck lock (the next one starts at once).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appManifest } from '../support/app-manifest.js';
import { CliDaemon } from '../support/cli-daemon.js';
import { createDaemonDirs, type DaemonDirs } from '../support/daemon-dirs.js';
import { freePort } from '../support/free-port.js';
import { recordFigures } from './figures.js';

describe('two daemons on one state dir (real CLI)', () => {
  let dirs: DaemonDirs;
  const running: CliDaemon[] = [];
  const start = (extra: Parameters<DaemonDirs['cliOptions']>[0] = {}) => {
    const daemon = new CliDaemon(dirs.cliOptions(extra));
    running.push(daemon);
    return daemon;
  };

  beforeAll(async () => {
    dirs = await createDaemonDirs('chaos-two-daemons');
    await dirs.writeManifest('web.yaml', appManifest('web', { replicas: 1 }));
  });
  afterAll(async () => {
    for (const d of running) d.signal('SIGKILL');
    await dirs?.cleanup();
  });

  it('the second exits at once naming the first; after a kill -9 the next one starts', async () => {
    const first = start();
    await first.waitForLine(/autoserve running/);

    // Other ports, so nothing but the state dir is shared.
    const second = start({ apiPort: await freePort(), lbPort: await freePort() });
    const exit = await second.exited;
    const refusedAfterMs = second.ageMs;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(second.log).toContain(`state directory ${dirs.stateDir} is in use by another autoserve daemon (pid ${first.pid})`);
    expect(first.child.exitCode, 'the first one keeps running').toBeNull();

    first.signal('SIGKILL');
    await first.exited;
    const third = start();
    await third.waitForLine(/autoserve running/);
    const tookOverMs = third.ageMs;
    expect(await third.stop()).toEqual({ code: 0, signal: null });
    // Both times include node's start-up and module loading.
    recordFigures('two-daemons', { secondRefusedAfterS: refusedAfterMs / 1000, nextRunningAfterKill9S: tookOverMs / 1000 });
  });
});

// The revision is the hash of what shapes a container: the network a replica joins and the ports it
// publishes are part of it, so a replica on another network (or on none: made by an AutoServe
// before networks) is replaced by a normal rolling update.
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { containerShapeOf, revisionOf } from '../../../src/controllers/containers/revision.js';
import { applyDefaults } from '../../../src/manifest/defaults.js';
import { appManifest } from '../../support/app-manifest.js';

const specOf = (extra?: string) => applyDefaults(load(appManifest('web', { spec: extra }))).spec;

describe('container shape and revision', () => {
  it('joins the shared network and publishes nothing by default', () => {
    const shape = containerShapeOf(specOf(), {});
    expect(shape).toMatchObject({ ports: [8080], network: 'shared' });
    expect(shape).not.toHaveProperty('publish');
  });

  it('publishes only the ports that ask, on 127.0.0.1 unless hostIP says otherwise', () => {
    const shape = containerShapeOf(
      applyDefaults(load(appManifest('web').replace('    - containerPort: 8080', '    - containerPort: 8080\n    - { containerPort: 9090, publish: true }\n    - { containerPort: 9091, publish: true, hostIP: 0.0.0.0 }'))).spec,
      {},
    );
    expect(shape.publish).toEqual([{ containerPort: 9090, hostIp: '127.0.0.1' }, { containerPort: 9091, hostIp: '0.0.0.0' }]);
  });

  it('an isolated app, a published port, and a shape without a network (older AutoServe) are each a different revision', () => {
    const shared = containerShapeOf(specOf(), {});
    const isolated = containerShapeOf(specOf('  network: { isolated: true }'), {});
    const { network: _dropped, ...beforeNetworks } = shared;
    const revisions = new Set([
      revisionOf(shared),
      revisionOf(isolated),
      revisionOf({ ...shared, publish: [{ containerPort: 8080, hostIp: '127.0.0.1' }] }),
      revisionOf(beforeNetworks as typeof shared),
    ]);
    expect(revisions.size).toBe(4);
    expect(revisionOf(containerShapeOf(specOf(), {}))).toBe(revisionOf(shared)); // stable
  });
});

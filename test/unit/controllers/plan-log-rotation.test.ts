// The log rotation plan: a live file rotates at half its share of the cap, rotated copies go
// oldest first when over the cap (never one made in the same round), live files are never deleted,
// and two rounds always bring the total under the cap, after which nothing more is done.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MIN_ROTATE_BYTES, planLogRotation, rotatedPath, type LogAction, type LogFile } from '../../../src/controllers/logs/plan-log-rotation.js';

const MiB = 1024 * 1024;
const live = (path: string, bytes: number, mtimeMs = 0): LogFile => ({ path, bytes, rotated: false, mtimeMs });
const copy = (path: string, bytes: number, mtimeMs = 0): LogFile => ({ path: rotatedPath(path), bytes, rotated: true, mtimeMs });

/** The files after the actions, as the rotator leaves them. */
function apply(files: LogFile[], actions: LogAction[]): LogFile[] {
  const byPath = new Map(files.map((f) => [f.path, { ...f }]));
  for (const a of actions) {
    if (a.kind === 'delete') byPath.delete(a.path);
    else {
      const f = byPath.get(a.path)!;
      byPath.set(a.to, { path: a.to, bytes: f.bytes, rotated: true, mtimeMs: f.mtimeMs });
      byPath.set(a.path, { ...f, bytes: 0 });
    }
  }
  return [...byPath.values()];
}
const total = (files: LogFile[]) => files.reduce((n, f) => n + f.bytes, 0);

describe('planLogRotation', () => {
  it.each([
    ['nothing to do under half a share', [live('/l/a.log', 10 * MiB), live('/l/b.log', 10 * MiB)], 100 * MiB, []],
    ['rotates a file at half its share', [live('/l/a.log', 25 * MiB), live('/l/b.log', 1 * MiB)], 100 * MiB, [{ kind: 'rotate', path: '/l/a.log', to: '/l/a.log.1' }]],
    [
      'more apps, smaller shares: old copies go, oldest first, until under the cap',
      [live('/l/a.log', 1 * MiB), copy('/l/a.log', 40 * MiB, 1), live('/l/b.log', 1 * MiB), copy('/l/b.log', 40 * MiB, 2), live('/l/c.log', 0), live('/l/d.log', 0)],
      50 * MiB,
      [{ kind: 'delete', path: '/l/a.log.1' }],
    ],
    ['never rotates a tiny file, whatever the cap', [live('/l/a.log', MIN_ROTATE_BYTES - 1)], 1024, []],
  ] as [string, LogFile[], number, LogAction[]][])('%s', (_name, files, cap, expected) => {
    expect(planLogRotation(files, cap)).toEqual(expected);
  });

  it('property: live files are never deleted; two rounds bring the total under the cap; a third does nothing', () => {
    const file = (i: number) => `/state/logs/f${i}.log`;
    fc.assert(
      fc.property(
        fc.array(fc.record({ live: fc.integer({ min: 0, max: 64 * MiB }), copy: fc.option(fc.integer({ min: 0, max: 64 * MiB }), { nil: undefined }), mtime: fc.nat(1e6) }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 512 }),
        (specs, capMiB) => {
          const files = specs.flatMap((s, i) => [live(file(i), s.live, s.mtime), ...(s.copy === undefined ? [] : [copy(file(i), s.copy, s.mtime - 1)])]);
          const cap = Math.max(capMiB * MiB, specs.length * 2 * MIN_ROTATE_BYTES);
          const first = planLogRotation(files, cap);
          for (const a of first) {
            const target = files.find((f) => f.path === a.path)!;
            expect(a.kind === 'delete' ? target.rotated : !target.rotated).toBe(true);
          }
          const once = apply(files, first);
          const twice = apply(once, planLogRotation(once, cap));
          expect(total(twice)).toBeLessThanOrEqual(cap);
          expect(planLogRotation(twice, cap)).toEqual([]);
          expect(twice.filter((f) => !f.rotated).map((f) => f.path).sort()).toEqual(files.filter((f) => !f.rotated).map((f) => f.path).sort());
        },
      ),
      { numRuns: 300 },
    );
  });
});

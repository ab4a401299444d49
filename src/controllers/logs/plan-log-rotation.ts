// Which logs to rotate and which rotated copies to delete so that all the logs of the state dir
// stay under one cap. Pure: files in, actions out.
//
// With K live log files (the controller's, nginx's error and access logs, one access log per app),
// each gets an equal share of the cap: a live file is rotated (renamed to `<name>.1`, replacing the
// copy before) once it reaches half its share, so a live file and its rotated copy together stay
// within the share and all of them within the cap. When the share shrinks (more apps) or a file
// grew far past its mark between two looks, rotated copies are deleted, oldest first, until the
// total is under the cap again; a copy made in this very round is kept until the next (its reader
// may still be draining it).

/** Below this a live file is never rotated (a tiny cap would otherwise rotate at every look). */
export const MIN_ROTATE_BYTES = 64 * 1024;

export interface LogFile {
  path: string;
  bytes: number;
  /** A rotated copy (`<live>.1`), not a file being written. */
  rotated: boolean;
  mtimeMs: number;
}

export type LogAction = { kind: 'rotate'; path: string; to: string } | { kind: 'delete'; path: string };

export function rotatedPath(livePath: string): string {
  return `${livePath}.1`;
}

export function planLogRotation(files: readonly LogFile[], capBytes: number): LogAction[] {
  const live = files.filter((f) => !f.rotated);
  const share = capBytes / Math.max(1, live.length);
  const threshold = Math.max(MIN_ROTATE_BYTES, share / 2);
  const actions: LogAction[] = [];
  const after = new Map(files.map((f) => [f.path, { ...f }]));
  const justRotated = new Set<string>();
  for (const f of live) {
    if (f.bytes < threshold) continue;
    const to = rotatedPath(f.path);
    actions.push({ kind: 'rotate', path: f.path, to });
    after.set(to, { path: to, bytes: f.bytes, rotated: true, mtimeMs: f.mtimeMs });
    after.set(f.path, { ...f, bytes: 0 });
    justRotated.add(to);
  }
  let total = [...after.values()].reduce((n, f) => n + f.bytes, 0);
  const deletable = [...after.values()].filter((f) => f.rotated && !justRotated.has(f.path)).sort((a, b) => a.mtimeMs - b.mtimeMs);
  for (const f of deletable) {
    if (total <= capBytes) break;
    actions.push({ kind: 'delete', path: f.path });
    total -= f.bytes;
  }
  return actions;
}

// Which nginx processes (masters and workers) hold files under a prefix: a test's check that no
// nginx of its own is left behind, or half-started.
import { holdsFileUnder, nginxProcesses, type NginxProcessInfo } from '../../src/controllers/routes/nginx-workers.js';

export async function nginxProcessesUnder(prefixDir: string): Promise<NginxProcessInfo[]> {
  const ours: NginxProcessInfo[] = [];
  for (const p of await nginxProcesses()) if (await holdsFileUnder(p.pid, [prefixDir])) ours.push(p);
  return ours;
}

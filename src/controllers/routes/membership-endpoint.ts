// Client of the own master's /_autoserve/membership (lua membership mode): GET reads the peers every
// worker picks from (one shared dict), POST replaces all of them, over the root-only control socket. The last membership is also written to a file under the prefix, from which
// the Lua module seeds the dict at every nginx (re)start and reload.
import http from 'node:http';
import { membershipBody, sameMembership, type Membership } from '../../render/membership.js';
import { writeFileAtomic } from './conf-files.js';

export const MEMBERSHIP_PATH = '/_autoserve/membership';
/** Relative to the nginx prefix; the Lua module reads the same path (MEMBERSHIP_FILE). */
export const MEMBERSHIP_FILE = 'conf/autoserve-membership.json';

export class MembershipEndpoint {
  private written: string | undefined;

  constructor(
    /** The control server's unix socket (see apps.conf.hbs): root only, as membership steers traffic. */
    private readonly socketPath: string,
    /** Absolute path of MEMBERSHIP_FILE. */
    private readonly seedFile: string,
    private readonly timeoutMs = 5_000,
    /** The seed file could not be written (the POST went ahead). */
    private readonly onSeedWriteFailed?: (err: unknown) => void,
  ) {}

  /** The served membership; undefined when the served config has no membership endpoint (yet). */
  async read(): Promise<Membership | undefined> {
    const res = await this.request('GET');
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${MEMBERSHIP_PATH}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    return (JSON.parse(res.body) as { apps: Membership }).apps;
  }

  /**
   * Writes the seed file, then replaces the served membership and confirms it with a GET.
   * Returns false when the served config has no endpoint yet (the next reload seeds from the file).
   * A seed file that cannot be written (a full disk) does not hold the POST back: what nginx routes
   * to now matters more than what a restarted master would start with, and the next publish
   * writes the file again.
   */
  async publish(apps: Membership): Promise<boolean> {
    const body = membershipBody(apps);
    if (body !== this.written) {
      try {
        await writeFileAtomic(this.seedFile, body);
        this.written = body;
      } catch (err) {
        this.written = undefined;
        this.onSeedWriteFailed?.(err);
      }
    }
    const res = await this.request('POST', body);
    if (res.status === 404) return false;
    if (res.status !== 200) throw new Error(`POST ${MEMBERSHIP_PATH}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    const served = await this.read();
    if (!served || !sameMembership(served, apps)) {
      throw new Error(`nginx membership does not match what was POSTed (serving ${JSON.stringify(served).slice(0, 200)})`);
    }
    return true;
  }

  private request(method: 'GET' | 'POST', body?: string): Promise<{ status: number; body: string }> {
    const headers: Record<string, string | number> = {};
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, path: MEMBERSHIP_PATH, method, agent: false, timeout: this.timeoutMs, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${MEMBERSHIP_PATH} timed out after ${this.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // No socket yet: the served config predates the control server (as a 404 would say).
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve({ status: 404, body: '' });
        else reject(err);
      });
      req.end(body);
    });
  }
}

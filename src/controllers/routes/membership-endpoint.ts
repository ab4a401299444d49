// Client of the own master's /_autoserve/membership (lua membership mode): GET reads the peers every
// worker picks from (one shared dict), POST replaces all of them, over the root-only control socket. The last membership is also written to a file under the prefix, from which
// the Lua module seeds the dict at every nginx (re)start and reload.
import { membershipBody, sameMembership, type Membership } from '../../render/membership.js';
import { writeFileAtomic } from './conf-files.js';
import { controlRequest, type ControlResponse } from './control-request.js';

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

  private request(method: 'GET' | 'POST', body?: string): Promise<ControlResponse> {
    return controlRequest(this.socketPath, method, MEMBERSHIP_PATH, { ...(body !== undefined ? { body } : {}), timeoutMs: this.timeoutMs });
  }
}

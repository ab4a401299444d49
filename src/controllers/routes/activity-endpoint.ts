// Client of the own master's /_autoserve/activity (Lua mode, scale to zero) over the root-only
// control socket: reads what nginx recorded of each app's requests at arrival (a long poll that
// returns as soon as a request asks for a wake) and tells held requests what to expect.
import type { ActivityChannel, ActivitySnapshot, AppActivity, HoldState } from '../../core/activity.js';
import { controlRequest } from './control-request.js';

export const ACTIVITY_PATH = '/_autoserve/activity';
/** Room beyond a long poll's wait for nginx to answer. */
const ANSWER_MARGIN_MS = 2_000;
/** nginx keeps a reason to this many characters (MAX_REASON in the Lua module). */
export const MAX_HOLD_REASON = 300;

export class ActivityEndpoint implements ActivityChannel {
  constructor(private readonly socketPath: string) {}

  async read(afterSeq: number | undefined, waitMs: number): Promise<ActivitySnapshot | undefined> {
    const query = afterSeq === undefined ? '' : `?after=${Math.max(0, Math.floor(afterSeq))}&wait=${Math.max(0, Math.floor(waitMs))}`;
    const res = await controlRequest(this.socketPath, 'GET', `${ACTIVITY_PATH}${query}`, { timeoutMs: waitMs + ANSWER_MARGIN_MS }).catch(() => undefined);
    if (res?.status !== 200) return undefined;
    return parseActivity(res.body);
  }

  async publish(states: Record<string, HoldState>, clearWakesUpTo: Record<string, number>): Promise<boolean> {
    const res = await controlRequest(this.socketPath, 'POST', ACTIVITY_PATH, { body: activityBody(states, clearWakesUpTo), contentType: 'text/plain', timeoutMs: ANSWER_MARGIN_MS });
    if (res.status === 404) return false;
    if (res.status !== 200) throw new Error(`POST ${ACTIVITY_PATH}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    return true;
  }
}

/** The POST body: one line per app state, one per cleared wake (times in seconds, as nginx keeps them). */
export function activityBody(states: Record<string, HoldState>, clearWakesUpTo: Record<string, number>): string {
  const lines = Object.entries(states).map(([app, s]) => `state ${app} ${s.kind} ${holdReasonText(s.reason)}`);
  for (const [app, atMs] of Object.entries(clearWakesUpTo)) lines.push(`clear ${app} ${(atMs / 1000).toFixed(3)}`);
  return lines.map((l) => `${l}\n`).join('');
}

/** A reason as nginx prints it inside a JSON string: printable ASCII, no quote or backslash, one line. */
export function holdReasonText(reason: string): string {
  return reason.replace(/[^ -~]+/g, ' ').replace(/["\\]/g, "'").slice(0, MAX_HOLD_REASON).trim();
}

interface RawActivity {
  seq?: unknown;
  apps?: Record<string, Record<string, unknown>>;
}

/** Parses the GET answer; seconds become ms. Throws on an answer that is not the expected JSON. */
export function parseActivity(body: string): ActivitySnapshot {
  const raw = JSON.parse(body) as RawActivity;
  if (typeof raw.seq !== 'number' || typeof raw.apps !== 'object' || raw.apps === null) throw new Error(`unexpected ${ACTIVITY_PATH} answer: ${body.slice(0, 200)}`);
  const apps: Record<string, AppActivity> = {};
  for (const [app, e] of Object.entries(raw.apps)) {
    const num = (k: string) => (typeof e[k] === 'number' ? (e[k] as number) : undefined);
    const ms = (k: string) => (num(k) === undefined ? undefined : Math.round(num(k)! * 1000));
    apps[app] = {
      ...(ms('arrival') !== undefined ? { lastArrivalMs: ms('arrival')! } : {}),
      ...(ms('wake') !== undefined ? { wakeRequestedAtMs: ms('wake')! } : {}),
      inFlight: Math.max(0, num('inflight') ?? 0),
      held: Math.max(0, num('held') ?? 0),
      heldTotal: num('heldTotal') ?? 0,
      timeouts: num('timeouts') ?? 0,
    };
  }
  return { seq: raw.seq, apps };
}

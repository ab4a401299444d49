import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { LABEL_APP } from '../../core/labels.js';
import type { ReplicaEventHandlers } from '../runtime.js';

// A reconnect attempt is one connect to a unix socket (refused at once while dockerd is down), so
// retrying often is cheap, and the cap bounds how long after dockerd answers again we notice.
export const RECONNECT_MIN_MS = 250;
export const RECONNECT_MAX_MS = 1_000;

/** One event of Docker's stream, as far as AutoServe reads it. */
export interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export interface EngineEventHandlers {
  onEvent(event: EngineEvent): void;
  /** The stream was lost and is open again: events may have been missed meanwhile. */
  onReconnect(): void;
}

/**
 * Follows Docker's event stream for our containers and names the app each event concerns. Events
 * only say where to look (level-triggered); the stream is re-opened when dockerd restarts, and
 * `onReconnect` lets the caller resync everything it may have missed meanwhile.
 */
export function watchContainerEvents(
  docker: Docker,
  /** Docker label filters of the containers followed (replica-facts managedLabelFilter). */
  labelFilter: string[],
  handlers: ReplicaEventHandlers,
  logger: Logger,
): { close(): void } {
  return followEngineEvents(
    docker,
    { type: ['container'], event: ['start', 'die', 'destroy', 'oom', 'stop'], label: labelFilter },
    {
      onEvent: (event) => {
        const app = event.Actor?.Attributes?.[LABEL_APP];
        if (app) handlers.onApp(app, event.Action ?? '');
      },
      onReconnect: handlers.onReconnect,
    },
    logger,
  );
}

/** Follows Docker's event stream with these filters, re-opening it with backoff whenever it is lost. */
export function followEngineEvents(docker: Docker, filters: Record<string, string[]>, handlers: EngineEventHandlers, logger: Logger): { close(): void } {
  let closed = false;
  let stream: NodeJS.ReadableStream | undefined;
  let delay = RECONNECT_MIN_MS;
  let timer: NodeJS.Timeout | undefined;
  /** The stream was lost since it last opened: the next open is a reconnect. */
  let lost = false;

  const reconnectLater = (why: string) => {
    if (closed) return;
    stream = undefined;
    // Said once per outage, not once per attempt.
    if (!lost) logger.warn({ why }, 'docker event stream lost; reconnecting');
    lost = true;
    timer = setTimeout(open, delay);
    delay = Math.min(RECONNECT_MAX_MS, delay * 2);
  };

  async function open(): Promise<void> {
    if (closed) return;
    try {
      const s = (await docker.getEvents({ filters })) as NodeJS.ReadableStream;
      if (closed) return void (s as unknown as { destroy?: () => void }).destroy?.();
      stream = s;
      delay = RECONNECT_MIN_MS;
      if (lost) {
        lost = false;
        logger.info('docker event stream open again; resyncing');
        handlers.onReconnect();
      }
      let buffered = '';
      s.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          let event: EngineEvent;
          try {
            event = JSON.parse(line) as EngineEvent;
          } catch {
            logger.debug({ line }, 'unparsable docker event');
            continue;
          }
          handlers.onEvent(event);
        }
      });
      // 'end' and 'error' can both fire for one loss: reconnect once per stream.
      const onLost = (why: string) => stream === s && reconnectLater(why);
      s.on('end', () => onLost('stream ended'));
      s.on('error', (err: Error) => onLost(err.message));
    } catch (err) {
      reconnectLater(err instanceof Error ? err.message : String(err));
    }
  }

  void open();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    },
  };
}

// Reads a container's log (no TTY) and splits Docker's multiplexed stream into lines. Each frame
// is an 8-byte header (stream type, 3 zero bytes, big-endian payload length) and its payload; with
// timestamps:true every line starts with an RFC3339Nano time and a space.
import type Docker from 'dockerode';
import type { LogLine, LogQuery } from '../runtime.js';
import { DOCKER_CALL_TIMEOUT_MS, dockerCall } from './docker-call.js';
import { isStatus } from './docker-status.js';

const HEADER_BYTES = 8;
/** A longer log line is cut here (with a note of how much): one app's output must not fill the controller's memory. */
export const MAX_LOG_LINE_CHARS = 8 * 1024;

/** Splits a multiplexed log buffer into frames; a truncated last frame is dropped. */
export function demultiplex(buffer: Buffer): { stream: 'stdout' | 'stderr'; payload: Buffer }[] {
  const frames: { stream: 'stdout' | 'stderr'; payload: Buffer }[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= buffer.length) {
    const type = buffer[offset];
    const length = buffer.readUInt32BE(offset + 4);
    const start = offset + HEADER_BYTES;
    if (start + length > buffer.length) break;
    frames.push({ stream: type === 2 ? 'stderr' : 'stdout', payload: buffer.subarray(start, start + length) });
    offset = start + length;
  }
  return frames;
}

/** Turns demultiplexed frames into timestamped lines of one replica. */
export function logLinesOf(replica: string, buffer: Buffer): LogLine[] {
  const lines: LogLine[] = [];
  // Group by stream first: a line may span frames.
  const text: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  for (const frame of demultiplex(buffer)) text[frame.stream] += frame.payload.toString('utf8');
  for (const stream of ['stdout', 'stderr'] as const) {
    for (const raw of text[stream].split('\n')) {
      if (raw === '') continue;
      const space = raw.indexOf(' ');
      const hasTime = space > 0 && /^\d{4}-\d{2}-\d{2}T/.test(raw);
      const line = hasTime ? raw.slice(space + 1) : raw;
      const cut = line.length > MAX_LOG_LINE_CHARS ? `${line.slice(0, MAX_LOG_LINE_CHARS)}… (${line.length - MAX_LOG_LINE_CHARS} more characters cut)` : line;
      lines.push({ replica, stream, time: hasTime ? raw.slice(0, space) : '', line: cut });
    }
  }
  return lines;
}

/** The last `tail` lines of one container (since `sinceMs`), demultiplexed and marked; [] when it is gone. */
export function readContainerLogs(docker: Docker, replica: { id: string; name: string }, query: LogQuery, signal?: AbortSignal): Promise<LogLine[]> {
  return readReplicaLogs(replica, query, signal, (options) => docker.getContainer(replica.id).logs(options));
}

/** Docker's log options without following, as both a container's and a service's log take them. */
export type LogReadOptions = Docker.ContainerLogsOptions & { follow?: false };

/**
 * The last `tail` lines of a replica (since `sinceMs`) through `read`, a container's log or a Swarm
 * service's (the same multiplexed stream), bounded like every engine call; [] when it is gone.
 */
export async function readReplicaLogs(replica: { id: string; name: string }, query: LogQuery, signal: AbortSignal | undefined, read: (options: LogReadOptions) => Promise<unknown>): Promise<LogLine[]> {
  const options: LogReadOptions = {
    follow: false,
    stdout: true,
    stderr: true,
    timestamps: true,
    tail: query.tail,
    // Docker takes fractional epoch seconds.
    ...(query.sinceMs !== undefined ? { since: (query.sinceMs / 1000).toFixed(3) as unknown as number } : {}),
  };
  let buffer: Buffer;
  try {
    buffer = (await dockerCall(`logs of ${replica.name}`, DOCKER_CALL_TIMEOUT_MS.logs, signal, (abortSignal) => read({ ...options, abortSignal }))) as Buffer;
  } catch (err) {
    if (isStatus(err, 404)) return []; // removed between list and read: no logs any more
    throw err;
  }
  return logLinesOf(replica.name, Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer)));
}

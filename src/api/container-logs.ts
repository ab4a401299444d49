// Reads a container's log (no TTY) and splits Docker's multiplexed stream into lines. Each frame
// is an 8-byte header (stream type, 3 zero bytes, big-endian payload length) and its payload; with
// timestamps:true every line starts with an RFC3339Nano time and a space.
import type Docker from 'dockerode';

export interface LogLine {
  /** The replica (container name) the line came from. */
  replica: string;
  stream: 'stdout' | 'stderr';
  /** RFC3339Nano, as Docker wrote it. */
  time: string;
  line: string;
}

export interface LogQuery {
  tail: number;
  /** Epoch milliseconds; only lines at or after it. */
  sinceMs?: number;
}

const HEADER_BYTES = 8;

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
      lines.push({ replica, stream, time: hasTime ? raw.slice(0, space) : '', line: hasTime ? raw.slice(space + 1) : raw });
    }
  }
  return lines;
}

/** The last `tail` lines of one container (since `sinceMs`), demultiplexed and marked. */
export async function readContainerLogs(docker: Docker, id: string, replica: string, query: LogQuery): Promise<LogLine[]> {
  const options: Docker.ContainerLogsOptions & { follow?: false } = {
    follow: false,
    stdout: true,
    stderr: true,
    timestamps: true,
    tail: query.tail,
    // Docker takes fractional epoch seconds.
    ...(query.sinceMs !== undefined ? { since: (query.sinceMs / 1000).toFixed(3) as unknown as number } : {}),
  };
  const buffer = (await docker.getContainer(id).logs(options)) as unknown as Buffer;
  return logLinesOf(replica, Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer)));
}

/** Orders lines of several replicas by time (RFC3339Nano strings of one zone sort as text). */
export function byTime(a: LogLine, b: LogLine): number {
  return a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
}

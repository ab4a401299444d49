import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export const CONTROLLER_LOG_FILE = 'autoserve-controller.log';

/**
 * The controller's own log: JSON lines to stdout (pretty when stdout is a terminal) and always JSON
 * to the log file in the state dir, as the seed's autoserve-controller.log.
 */
export function createLogger(level: string, logFile?: string): Logger {
  const streams: pino.StreamEntry[] = [
    { level: level as pino.Level, stream: process.stdout.isTTY ? pretty({ colorize: true, sync: true }) : process.stdout },
  ];
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true });
    streams.push({ level: level as pino.Level, stream: pino.destination({ dest: logFile, mkdir: true, sync: false }) });
  }
  return pino({ level, base: { name: 'autoserve' } }, pino.multistream(streams));
}

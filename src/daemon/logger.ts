import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export const CONTROLLER_LOG_FILE = 'autoserve-controller.log';
const LOG_FILE_MODE = 0o600;

/**
 * The controller's own log: JSON lines to stdout (pretty when stdout is a terminal) and always JSON
 * to the log file in the state dir, as the seed's autoserve-controller.log.
 */
export function createLogger(level: string, logFile?: string): Logger {
  const streams: pino.StreamEntry[] = [
    { level: level as pino.Level, stream: process.stdout.isTTY ? pretty({ colorize: true, sync: true }) : process.stdout },
  ];
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
    // Owner only: a log names apps, files and errors; a file from an older version is narrowed too.
    if (existsSync(logFile)) chmodSync(logFile, LOG_FILE_MODE);
    streams.push({ level: level as pino.Level, stream: pino.destination({ dest: logFile, mkdir: true, sync: false, mode: LOG_FILE_MODE }) });
  }
  return pino({ level, base: { name: 'autoserve' } }, pino.multistream(streams));
}

import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export const CONTROLLER_LOG_FILE = 'autoserve-controller.log';
/** Lines waiting for a log file that cannot be written (a full disk): beyond this they are dropped. */
const MAX_PENDING_LOG_BYTES = 8 * 1024 * 1024;
const LOG_FILE_MODE = 0o600;

export interface ControllerLog {
  logger: Logger;
  /** The log file's stream, when there is one (rotation reopens it). */
  file?: ReturnType<typeof pino.destination>;
}

/**
 * The controller's own log: JSON lines to stdout (pretty when stdout is a terminal) and always JSON
 * to the log file in the state dir, as the seed's autoserve-controller.log. A log file that cannot
 * be written (a full disk) never stops the controller: its lines wait in memory (up to
 * MAX_PENDING_LOG_BYTES, then they are dropped) and stdout says so once per outage.
 */
export function createControllerLog(level: string, logFile?: string): ControllerLog {
  const stdout = process.stdout.isTTY ? pretty({ colorize: true, sync: true }) : process.stdout;
  const streams: pino.StreamEntry[] = [{ level: level as pino.Level, stream: stdout }];
  let file: ControllerLog['file'];
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
    // Owner only: a log names apps, files and errors; a file from an older version is narrowed too.
    if (existsSync(logFile)) chmodSync(logFile, LOG_FILE_MODE);
    file = pino.destination({ dest: logFile, mkdir: true, sync: false, mode: LOG_FILE_MODE, maxLength: MAX_PENDING_LOG_BYTES });
    reportFileOutages(file, pino({ level: 'warn', base: { name: 'autoserve' } }, stdout), logFile);
    streams.push({ level: level as pino.Level, stream: file });
  }
  return { logger: pino({ level, base: { name: 'autoserve' } }, pino.multistream(streams)), file };
}

/** Says on stdout when the log file stops taking lines and when it takes them again. */
function reportFileOutages(file: NodeJS.EventEmitter, stdout: Logger, path: string): void {
  let failing = false;
  let dropped = 0;
  file.on('error', (err: NodeJS.ErrnoException) => {
    if (failing) return;
    failing = true;
    stdout.warn({ file: path, err: err.code ?? err.message }, 'log file cannot be written; its lines wait in memory (dropped past 8 MiB), stdout has them all');
  });
  file.on('drop', () => void dropped++);
  file.on('write', () => {
    if (!failing) return;
    failing = false;
    stdout.warn({ file: path, droppedWrites: dropped }, 'log file written again');
    dropped = 0;
  });
}

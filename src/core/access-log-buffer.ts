// nginx buffers access-log lines (`access_log ... buffer=64k flush=1s`): one write() per buffer
// instead of one per request, about 5 % of a worker's CPU under load (docs/benchmarks.md). A line
// may then reach the file up to the flush interval after its request ended, so the metrics reader
// counts a second as complete only that much later. The renderer and the reader share these.

/** nginx's access-log buffer size. */
export const ACCESS_LOG_BUFFER = '64k';
/** Longest a line waits in nginx's buffer before it is written. */
export const ACCESS_LOG_FLUSH_SECONDS = 1;

// SIGTERM and SIGINT, from the first line of the CLI on. Until a command takes them over, a stop
// signal exits 0 at once: nothing has been started that needs stopping. `autoserve run` takes them
// over before it starts anything, and from then on a stop is an orderly one (see commands/run.ts).

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

let handler: (signal: NodeJS.Signals) => void = () => process.exit(0);
let installed = false;

/** Installs the one listener per stop signal; until onStopSignal, a stop signal exits 0. */
export function installStopSignals(): void {
  if (installed) return;
  installed = true;
  for (const signal of STOP_SIGNALS) process.on(signal, () => handler(signal));
}

/** From now on, SIGTERM and SIGINT call `next` (instead of the previous handler). */
export function onStopSignal(next: (signal: NodeJS.Signals) => void): void {
  installStopSignals();
  handler = next;
}

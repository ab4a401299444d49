// The daemon's stop, built while it starts: each part that starts pushes how to stop it, and
// stopping runs those steps last-in first-out. So a start-up cut short (SIGTERM, a part that fails
// to start) undoes exactly what was started, in the same order a full stop would.
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';

export class Teardown {
  private readonly steps: { name: string; run: () => unknown }[] = [];
  private running: Promise<void> | undefined;

  /** Registers how to stop a part that has just started. */
  push(name: string, run: () => unknown): void {
    this.steps.push({ name, run });
  }

  /**
   * Runs every step, newest first, once (later calls share the first run). A step that fails is
   * logged and the others still run: a stop never stops halfway.
   */
  run(logger: Logger): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.splice(0).reverse()) {
        try {
          await step.run();
        } catch (err) {
          logger.error({ step: step.name, err: errorMessage(err) }, 'stop step failed');
        }
      }
    })();
    return this.running;
  }
}

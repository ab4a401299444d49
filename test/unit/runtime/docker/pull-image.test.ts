// A pull is given up when the engine reports no progress for a while, not after a fixed total: a
// large image on a slow link still pulls; a stalled one ends, and the engine's pull is aborted.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ImagePullFailedError } from '../../../../src/errors.js';
import { pullImage } from '../../../../src/runtime/docker/images.js';

/** An engine whose pull reports progress every `everyMs` for `forMs`, then ends (or goes silent). */
function engine(opts: { everyMs: number; forMs: number; thenSilent?: boolean }) {
  const seen = { aborted: false };
  const docker = {
    pull: async (_image: string, { abortSignal }: { abortSignal: AbortSignal }) => {
      const stream = new PassThrough();
      abortSignal.addEventListener('abort', () => (seen.aborted = true));
      const started = Date.now();
      const timer = setInterval(() => {
        if (Date.now() - started >= opts.forMs) {
          clearInterval(timer);
          if (!opts.thenSilent) stream.end();
          return;
        }
        stream.write(JSON.stringify({ status: 'Downloading', progress: `${Date.now() - started} ms` }) + '\n');
      }, opts.everyMs);
      stream.on('close', () => clearInterval(timer));
      return stream;
    },
    modem: {
      followProgress(stream: NodeJS.ReadableStream, done: (err: Error | null, output: unknown[]) => void, progress: (event: unknown) => void) {
        let finished = false;
        const finish = (err: Error | null) => {
          if (!finished) done(err, []);
          finished = true;
        };
        stream.on('data', (chunk: Buffer) => progress(JSON.parse(chunk.toString())));
        stream.on('end', () => finish(null));
        stream.on('error', (err: Error) => finish(err));
      },
    },
  };
  return { docker: docker as unknown as Docker, seen };
}

describe('pullImage', () => {
  it('a pull that keeps reporting progress may take longer than the stall bound', async () => {
    const { docker } = engine({ everyMs: 20, forMs: 400 });
    await expect(pullImage(docker, 'big:1', undefined, 150)).resolves.toBeUndefined();
  });

  it('a pull that stops reporting progress is given up, and the engine\'s pull aborted', async () => {
    const { docker, seen } = engine({ everyMs: 20, forMs: 100, thenSilent: true });
    const started = Date.now();
    const err = await pullImage(docker, 'stuck:1', undefined, 150).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullFailedError);
    expect(String((err as Error).message)).toMatch(/stuck:1.*no progress for/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(seen.aborted).toBe(true);
  });

  it('the caller\'s abort rejects with its reason, not as a failed pull', async () => {
    const { docker } = engine({ everyMs: 20, forMs: 5_000 });
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error('stopping')), 100);
    await expect(pullImage(docker, 'big:1', caller.signal, 1_000)).rejects.toThrow('stopping');
  });
});

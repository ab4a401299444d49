// Copies local images into test nodes: there is no registry to pull from, so an image is saved
// once from the host's engine (a read-only export) and loaded into each node's engine, like
// `docker save IMAGE... | docker -H unix://NODE.sock load`.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';

/** Saves `images` from `source` into one tar file at `tarPath`. */
export async function saveImages(source: Docker, images: string[], tarPath: string): Promise<void> {
  // GET /images/get?names=...: dockerode has it, its type definitions do not.
  const exporter = source as unknown as { getImages(options: { names: string[] }): Promise<Readable> };
  const stream = await exporter.getImages({ names: images });
  await pipeline(stream, createWriteStream(tarPath));
}

/** Loads a tar made by saveImages into `target`; rejects with the engine's message if it refuses. */
export async function loadImages(target: Docker, tarPath: string): Promise<void> {
  const stream = (await target.loadImage(tarPath, { quiet: true })) as Readable;
  let output = '';
  for await (const chunk of stream) output += String(chunk);
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    const message = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
    if (message.error) throw new Error(`image load failed: ${message.errorDetail?.message ?? message.error}`);
  }
}

/** Saves once, loads into every target in parallel, removes the tar. */
export async function copyImages(source: Docker, targets: Docker[], images: string[], tarPath: string): Promise<void> {
  if (images.length === 0 || targets.length === 0) return;
  try {
    await saveImages(source, images, tarPath);
    await Promise.all(targets.map((target) => loadImages(target, tarPath)));
  } finally {
    await rm(tarPath, { force: true });
  }
}

// The key that fingerprints opened values (value-source.ts) for the revision hash. The revision is
// a label every status reader sees; a plain hash of a weak secret could be guessed offline from
// it, a keyed one (HMAC) cannot without this key. It lives 0600 in the state dir: losing the state
// dir makes a new key, so every app whose env holds an opened value rolls out once (zero-downtime,
// as any revision change), and nothing else changes.
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

export const FINGERPRINT_KEY_FILE = 'value-fingerprint.key';
export const FINGERPRINT_KEY_BYTES = 32;
const KEY_FILE_MODE = 0o600;

/** The state dir's key, created (random, 0600) when there is none. Throws on a damaged file. */
export async function loadOrCreateFingerprintKey(stateDir: string): Promise<Buffer> {
  const file = path.join(stateDir, FINGERPRINT_KEY_FILE);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(FINGERPRINT_KEY_BYTES);
  // Written whole to a temp file, then linked into place: link fails if a key exists already, so
  // two controllers starting at once agree on the first key, and a crash never leaves half a key.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', KEY_FILE_MODE);
  try {
    await handle.writeFile(key);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const existing = await readFingerprintKey(stateDir);
  if (!existing) throw new Error(`${file} vanished while it was being read`);
  await chmod(file, KEY_FILE_MODE);
  return existing;
}

/** The state dir's key, or undefined when there is none (`autoserve plan` never creates one). */
export async function readFingerprintKey(stateDir: string): Promise<Buffer | undefined> {
  const file = path.join(stateDir, FINGERPRINT_KEY_FILE);
  try {
    const stats = await stat(file);
    if (!stats.isFile() || stats.size !== FINGERPRINT_KEY_BYTES) throw damaged(file, `is not a ${FINGERPRINT_KEY_BYTES}-byte file`);
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function damaged(file: string, why: string): Error {
  return new Error(`${file} ${why}; remove it to make a new key (apps whose env holds an opened value then roll out once)`);
}

import { appendFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogTailer, ROTATED_QUIET_MS } from '../../../src/observe/log-tailer.js';

describe('LogTailer', () => {
  let dir: string;
  let file: string;
  let lines: string[];
  const tailer = (opts: ConstructorParameters<typeof LogTailer>[2] = {}) => new LogTailer(file, (l) => lines.push(l), opts);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'autoserve-tailer-'));
    file = path.join(dir, 'access-web.log');
    lines = [];
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('emits complete lines only, holding a partial last line until its newline arrives', async () => {
    await writeFile(file, '');
    const t = tailer();
    await t.poll();
    await appendFile(file, 'one\ntw');
    await t.poll();
    expect(lines).toEqual(['one']);
    await appendFile(file, 'o\nthree\n');
    await t.poll();
    expect(lines).toEqual(['one', 'two', 'three']);
    await t.close();
  });

  it('starts at the end by default, or backfills the tail of an existing file skipping its cut first line', async () => {
    await writeFile(file, 'old-1\nold-2\nold-3\n');
    const atEnd = tailer();
    await atEnd.poll();
    expect(lines).toEqual([]);
    await atEnd.close();
    const backfill = tailer({ startAt: { backfillBytes: 9 } }); // "d-2\nold-3\n": the cut line is dropped
    await backfill.poll();
    expect(lines).toEqual(['old-3']);
    await backfill.close();
  });

  it('reports a missing file, then reads a file that appears later from its start', async () => {
    const t = tailer();
    expect(await t.poll()).toBe('missing');
    await writeFile(file, 'first\n');
    expect(await t.poll()).toBe('ok');
    expect(lines).toEqual(['first']);
    await t.close();
  });

  it('follows a rotation by rename: drains the old file, then reads the new one from 0', async () => {
    await writeFile(file, '');
    const t = tailer();
    await t.poll();
    await appendFile(file, 'a\n');
    await t.poll();
    await appendFile(file, 'b\n'); // written after our last poll
    await rename(file, `${file}.1`);
    await appendFile(`${file}.1`, 'c\n'); // nginx keeps writing the old file until it reopens
    await writeFile(file, 'd\n');
    await t.poll();
    expect(lines).toEqual(['a', 'b', 'c', 'd']);
    await appendFile(file, 'e\n');
    await t.poll();
    expect(lines).toEqual(['a', 'b', 'c', 'd', 'e']);
    await t.close();
  });

  it('keeps reading the renamed file until the writer has reopened, beside the new one: nothing lost, nothing twice', async () => {
    let clock = 0;
    await writeFile(file, '');
    const t = tailer({ now: () => clock });
    await t.poll();
    await appendFile(file, 'a\n');
    await rename(file, `${file}.1`);
    expect(await t.poll()).toBe('ok'); // no file under the name yet, but its rotated copy is read
    expect(lines).toEqual(['a']);
    await appendFile(`${file}.1`, 'b\n'); // after our poll, before the writer reopened
    clock += 1_000;
    await t.poll();
    await writeFile(file, 'c\n'); // reopened
    await appendFile(`${file}.1`, 'late\n'); // a worker that reopened last
    clock += 1_000;
    await t.poll();
    expect(lines.sort()).toEqual(['a', 'b', 'c', 'late']);
    clock += ROTATED_QUIET_MS;
    await t.poll(); // quiet long enough: the rotated copy is closed
    await appendFile(`${file}.1`, 'never read\n');
    await appendFile(file, 'd\n');
    clock += 1_000;
    await t.poll();
    expect(lines.sort()).toEqual(['a', 'b', 'c', 'd', 'late']);
    await t.close();
  });

  it('starts again at 0 after a truncation in place', async () => {
    await writeFile(file, '');
    const t = tailer();
    await t.poll();
    await appendFile(file, 'a-long-line-before\n');
    await t.poll();
    await truncate(file, 0);
    await appendFile(file, 'x\n');
    await t.poll();
    expect(lines).toEqual(['a-long-line-before', 'x']);
    await t.close();
  });

  it('never re-reads lines when the file grows between its stat and its read (no false truncation)', async () => {
    await writeFile(file, '');
    const t = tailer();
    await t.poll();
    let written = 0;
    const writer = (async () => {
      for (let batch = 0; batch < 200; batch++) {
        let text = '';
        for (let i = 0; i < 10; i++) text += `line-${written++}\n`;
        await appendFile(file, text);
      }
    })();
    let done = false;
    void writer.then(() => (done = true));
    while (!done) await t.poll();
    await t.poll();
    expect(lines).toHaveLength(2000);
    expect(new Set(lines).size).toBe(2000);
    await t.close();
  });

  it('drops a line longer than the limit whole and carries on', async () => {
    await writeFile(file, '');
    const t = tailer({ maxLineBytes: 16 });
    await t.poll();
    await appendFile(file, `${'x'.repeat(40)}`);
    await t.poll();
    await appendFile(file, `${'x'.repeat(40)}\nok\n`);
    await t.poll();
    expect(lines).toEqual(['ok']);
    await t.close();
  });

  it('reports missing once the file is deleted, after draining what was written', async () => {
    await writeFile(file, '');
    const t = tailer();
    await t.poll();
    await appendFile(file, 'last\n');
    await rm(file);
    expect(await t.poll()).toBe('missing');
    expect(lines).toEqual(['last']);
    await t.close();
  });
});

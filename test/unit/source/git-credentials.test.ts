// Git credentials reach git through a credential helper and its environment, never its argv.
import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { credentialHelper, splitUrlCredentials } from '../../../src/source/git-credentials.js';
import { GitSource } from '../../../src/source/git-source.js';
import { withTempDir } from '../manifest/fixtures.js';

const exec = promisify(execFile);

describe('git credentials', () => {
  it('splits user:password@ out of an https URL, decoded', () => {
    expect(splitUrlCredentials('https://bot:t%40ken@git.example.com/team/repo.git')).toEqual({
      url: 'https://git.example.com/team/repo.git',
      credentials: { username: 'bot', password: 't@ken' },
    });
    expect(splitUrlCredentials('git@git.example.com:team/repo.git')).toEqual({ url: 'git@git.example.com:team/repo.git' });
    expect(splitUrlCredentials('file:///srv/repo')).toEqual({ url: 'file:///srv/repo' });
  });

  it('answers git credential fill from the environment of that one git', async () => {
    const helper = credentialHelper({ username: 'bot', password: 'pa ss$word' });
    const { stdout } = await exec('sh', ['-c', `printf 'protocol=https\\nhost=git.example.com\\n\\n' | git "$@" credential fill`, 'sh', ...helper.args], {
      env: { ...process.env, ...helper.env, GIT_TERMINAL_PROMPT: '0' },
    });
    expect(stdout).toContain('username=bot\n');
    expect(stdout).toContain('password=pa ss$word\n');
  });

  it('never puts the password on the command line of git', async () => {
    await withTempDir(async (dir) => {
      // A git on PATH that records its argv, then runs the real one.
      const log = path.join(dir, 'argv.log');
      const fake = path.join(dir, 'bin', 'git');
      await exec('mkdir', ['-p', path.dirname(fake)]);
      await writeFile(fake, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${log}\nexec /usr/bin/git "$@"\n`);
      await chmod(fake, 0o755);
      const savedPath = process.env.PATH;
      process.env.PATH = `${path.dirname(fake)}:${savedPath}`;
      const failures: string[] = [];
      const source = new GitSource({
        url: 'https://bot:super-secret-token@127.0.0.1:9/repo.git',
        stateDir: path.join(dir, 'state'),
        intervalMs: 60_000,
        logger: pino({ level: 'silent' }),
        onRevision: () => {},
        onError: (f) => failures.push(f.message),
      });
      try {
        await source.start();
        const deadline = Date.now() + 10_000;
        while (failures.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      } finally {
        await source.stop();
        process.env.PATH = savedPath;
      }
      const argv = await readFile(log, 'utf8');
      expect(argv).toContain('https://127.0.0.1:9/repo.git');
      expect(argv).not.toContain('super-secret-token');
      expect(failures.join('\n')).not.toContain('super-secret-token');
    });
  });
});

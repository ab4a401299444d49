// runGit: bounded, non-interactive, errors sorted into kinds, secrets kept out of messages.
import { describe, expect, it } from 'vitest';
import { GitSourceError, looksLikeAuthFailure, redactUrls, runGit } from '../../../src/source/git-command.js';

describe('runGit', () => {
  it('returns stdout of a successful call', async () => {
    expect((await runGit(['--version'], 'fetch')).stdout).toMatch(/^git version /);
  });

  it('throws a GitSourceError of the given kind with git stderr', async () => {
    const err = await runGit(['ls-remote', 'file:///nonexistent/repo.git'], 'fetch').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitSourceError);
    expect(err).toMatchObject({ kind: 'fetch', code: 'GIT_SOURCE_ERROR' });
    expect((err as Error).message).toMatch(/git ls-remote failed: .*nonexistent/);
  });

  it('treats listed exit codes as answers', async () => {
    const result = await runGit(['ls-remote', '--exit-code', 'file:///nonexistent'], 'fetch', { okExitCodes: [128] });
    expect(result.exitCode).toBe(128);
  });

  it('kills a call that outlives its timeout', async () => {
    // `git -c alias.slow='!sleep 5' slow` runs a shell alias: a stand-in for a hanging fetch.
    const started = Date.now();
    const err = await runGit(['-c', 'alias.slow=!sleep 5', 'slow'], 'fetch', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('never prompts: an https remote asking for credentials fails as auth', async () => {
    // The prompt refusal alone is enough to classify; no network is needed for this check.
    expect(looksLikeAuthFailure("fatal: could not read Username for 'https://example.com': terminal prompts disabled")).toBe(true);
    expect(looksLikeAuthFailure('git@github.com: Permission denied (publickey).')).toBe(true);
    expect(looksLikeAuthFailure('Host key verification failed.')).toBe(true);
    expect(looksLikeAuthFailure("fatal: '/x' does not appear to be a git repository")).toBe(false);
  });

  it('redacts credentials in URLs', () => {
    expect(redactUrls('fatal: unable to access https://user:ghp_secret@github.com/o/r.git/')).toBe('fatal: unable to access https://***@github.com/o/r.git/');
  });
});

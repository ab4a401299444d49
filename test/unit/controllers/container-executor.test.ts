// What the runtime says when a create or start fails reaches events, conditions and the log; it
// may quote what the container was given (runc echoes an env entry it refuses). The executor cuts
// every env value out of it first.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ContainerExecutor } from '../../../src/controllers/containers/container-executor.js';
import { ReconcileError } from '../../../src/errors.js';

const logger = pino({ level: 'silent' });
const SECRET = 'db-pass\u0001word-"quoted"-42';
const LITERAL = 'literal-value-123';

function executorFailingWith(fail: (env: Record<string, string>) => Error, at: 'create' | 'start') {
  let env: Record<string, string> = {};
  const runtime = {
    ensureImage: async () => undefined,
    create: async (request: { shape: { env: Record<string, string> } }) => {
      env = request.shape.env;
      if (at === 'create') throw fail(env);
      return { id: 'c1', name: 'web-0' };
    },
    start: async () => {
      if (at === 'start') throw fail(env);
    },
    remove: async () => undefined,
  };
  return new ContainerExecutor({ runtime, drainer: { start: () => {} }, images: { ready: async () => ({ state: 'present' as const }) }, logger });
}

async function failedCreate(executor: ContainerExecutor) {
  return executor.execute(
    [{ kind: 'create', revision: 'r', slot: 0, reason: 'scale up to 1' }],
    { instance: 'i', app: 'web', shapes: new Map([['r', { image: 'img', env: { KEY: SECRET, MODE: LITERAL, ON: '1' }, ports: [8080], network: 'shared' as const }]]), drainSeconds: 0, stopTimeoutSeconds: 1, live: 0 },
  );
}

describe('ContainerExecutor', () => {
  it('cuts every env value out of a failed create or start, as written and as Go or JSON quote it', async () => {
    const echoes = (env: Record<string, string>) => [
      `raw KEY=${env.KEY} MODE=${env.MODE}`,
      `json ${JSON.stringify(`KEY=${env.KEY}`)}`,
      `go "KEY=${JSON.stringify(env.KEY).slice(1, -1).replace(/\\u00([0-9a-f]{2})/g, '\\x$1')}"`,
    ].join('; ');
    for (const at of ['create', 'start'] as const) {
      const result = await failedCreate(executorFailingWith((env) => new ReconcileError('CreateFailed', echoes(env), 'transient'), at));
      expect(result.errors).toHaveLength(1);
      const [error] = result.errors;
      // The same error (its class and kind decide what happens next), with the values cut out.
      expect(error).toBeInstanceOf(ReconcileError);
      expect(error).toMatchObject({ reason: 'CreateFailed', kind: 'transient' });
      expect(error!.message).not.toContain('db-pass');
      expect(error!.message).not.toContain(LITERAL);
      expect(error!.message).toContain('KEY=(redacted)');
      expect(error!.message.match(/\(redacted\)/g)).toHaveLength(4);
    }
  });

  it('leaves a message that quotes no value as it is', async () => {
    const result = await failedCreate(executorFailingWith(() => new Error('no space left on device: 1 of 1 failed'), 'create'));
    expect(result.errors[0]?.message).toBe('no space left on device: 1 of 1 failed');
  });
});

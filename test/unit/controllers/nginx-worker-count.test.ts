import { describe, expect, it } from 'vitest';
import { defaultWorkerProcesses } from '../../../src/controllers/routes/nginx-process.js';

describe('defaultWorkerProcesses', () => {
  it('leaves the replicas one core, and always runs one worker', () => {
    expect([1, 2, 3, 4, 16].map((cores) => defaultWorkerProcesses(cores))).toEqual([1, 1, 2, 3, 15]);
    expect(defaultWorkerProcesses(0)).toBe(1);
  });
});

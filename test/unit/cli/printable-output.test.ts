// What the CLI prints of events and conditions cannot drive a terminal or forge a line (item 7).
import { describe, expect, it } from 'vitest';
import { formatEvent } from '../../../src/cli/commands/events.js';
import { printable, quote } from '../../../src/core/printable.js';

describe('printed text', () => {
  it('escapes control characters in an event line', () => {
    const line = formatEvent({
      id: 1, time: '2024-01-01T00:00:00.000Z', firstTime: '2024-01-01T00:00:00.000Z', count: 1,
      type: 'Warning', reason: 'SourceFailed', app: 'web', message: 'commit "fix\u001b[2J\r\n2024-01-01T00:00:00Z  Normal  Fake"',
    });
    expect(line).not.toMatch(/[\u0000-\u001f]/);
    expect(line).toContain('\\u001b[2J\\r\\n');
  });

  it('quotes values bounded and named: NaN, Infinity, huge and shared structures', () => {
    expect(quote(Number.NaN)).toBe('NaN');
    expect(quote(-Infinity)).toBe('-Infinity');
    expect(quote('x'.repeat(10_000)).length).toBeLessThanOrEqual(60);
    let shared: unknown = ['x'];
    for (let i = 0; i < 40; i++) shared = [shared, shared]; // 2^40 leaves if expanded
    const started = Date.now();
    expect(quote(shared).length).toBeLessThanOrEqual(60);
    expect(Date.now() - started).toBeLessThan(1_000); // linear, not 2^40
    expect(printable('a\u202eb\u2028c')).toBe('a\\u202eb\\u2028c');
  });
});

// The event stream reconnects when dockerd goes away (the stream ends or errors) and asks for a
// resync, since events may have been missed meanwhile. Docker is faked here: restarting the shared
// dockerd would break every other test.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { watchContainerEvents } from '../../../../src/runtime/docker/events.js';
import { managedLabelFilter } from '../../../../src/runtime/docker/replica-facts.js';
import { eventually } from '../../../support/eventually.js';

function fakeDocker(streams: PassThrough[], filtersSeen: unknown[]): Docker {
  let call = 0;
  return {
    getEvents: async (opts: { filters: unknown }) => {
      filtersSeen.push(opts.filters);
      const stream = streams[call++];
      if (!stream) throw new Error('connect ECONNREFUSED /var/run/docker.sock');
      return stream;
    },
  } as unknown as Docker;
}

const event = (app: string, action: string) =>
  `${JSON.stringify({ Type: 'container', Action: action, Actor: { Attributes: { 'autoserve.app': app } } })}\n`;

describe('watchContainerEvents', () => {
  it('names the app of each event, reassembling lines split across chunks', async () => {
    const first = new PassThrough();
    const filters: unknown[] = [];
    const seen: string[] = [];
    const watcher = watchContainerEvents(fakeDocker([first], filters), managedLabelFilter('inst'), { onApp: (app, action) => seen.push(`${app}:${action}`), onReconnect: () => {} }, pino({ level: 'silent' }));
    try {
      await eventually(() => expect(filters).toHaveLength(1));
      const line = event('web', 'die');
      first.write(line.slice(0, 10));
      first.write(line.slice(10) + event('api', 'start'));
      await eventually(() => expect(seen).toEqual(['web:die', 'api:start']));
      expect(JSON.stringify(filters[0])).toContain('autoserve.instance=inst');
    } finally {
      watcher.close();
    }
  });

  it('reconnects after the stream ends, then asks for a resync', async () => {
    const first = new PassThrough();
    const second = new PassThrough();
    const filters: unknown[] = [];
    const seen: string[] = [];
    let reconnects = 0;
    const watcher = watchContainerEvents(fakeDocker([first, second], filters), managedLabelFilter('inst'), { onApp: (app) => seen.push(app), onReconnect: () => reconnects++ }, pino({ level: 'silent' }));
    try {
      await eventually(() => expect(filters).toHaveLength(1));
      first.end(); // dockerd went away
      await eventually(() => expect(filters).toHaveLength(2), { timeoutMs: 5_000 });
      await eventually(() => expect(reconnects).toBe(1));
      second.write(event('web', 'start'));
      await eventually(() => expect(seen).toEqual(['web']));
    } finally {
      watcher.close();
    }
  });
});

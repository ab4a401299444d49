import { describe, expect, it } from 'vitest';
import { parseAccessLogLine, sumUpstreamTimesMs } from '../../../src/observe/access-log.js';
import { parseStubStatus } from '../../../src/observe/nginx-status.js';

// As nginx writes it with the autoserve_json format of apps.conf.hbs.
const line = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    time: 1700000000.123,
    app: 'web',
    host: 'web.localhost',
    method: 'GET',
    uri: '/x?y=1',
    status: 200,
    request_time: 0.012,
    upstream_addr: '127.0.0.1:32768',
    upstream_status: '200',
    upstream_response_time: '0.010',
    bytes_sent: 321,
    connection: 7,
    connection_requests: 2,
    ...over,
  });

describe('parseAccessLogLine', () => {
  it('reads time (msec), app, status, request time and upstream time in ms', () => {
    const e = parseAccessLogLine(line());
    expect(e).toMatchObject({ app: 'web', status: 200 });
    expect(e?.timeMs).toBeCloseTo(1700000000123, 0);
    expect(e?.requestMs).toBeCloseTo(12, 6);
    expect(e?.upstreamMs).toBeCloseTo(10, 6);
  });

  it('sums every attempt after a retry, and across internal redirects', () => {
    expect(parseAccessLogLine(line({ upstream_status: '502, 200', upstream_response_time: '0.004, 0.010' }))?.upstreamMs).toBeCloseTo(14, 6);
    expect(sumUpstreamTimesMs('0.001 : 0.002')).toBeCloseTo(3, 6);
    expect(sumUpstreamTimesMs('-, 0.005')).toBeCloseTo(5, 6);
  });

  it('has no upstream time when nginx answered itself (503 of an app without replicas, 404)', () => {
    expect(parseAccessLogLine(line({ status: 503, upstream_addr: '', upstream_status: '', upstream_response_time: '' }))?.upstreamMs).toBeUndefined();
    expect(parseAccessLogLine(line({ upstream_response_time: '-' }))?.upstreamMs).toBeUndefined();
    // The Lua balancer found no peer: nginx logs a zero time but dialled nothing (as nginx 1.22 writes it).
    expect(parseAccessLogLine(line({ status: 503, upstream_addr: '', upstream_status: '-', upstream_response_time: '0.000' }))?.upstreamMs).toBeUndefined();
  });

  it('rejects partial, foreign and malformed lines', () => {
    const full = line();
    expect(parseAccessLogLine(full.slice(0, 40))).toBeUndefined();
    expect(parseAccessLogLine('127.0.0.1 - - [12/Nov/2024] "GET / HTTP/1.1" 200')).toBeUndefined();
    expect(parseAccessLogLine('{"time":"x","status":200}')).toBeUndefined();
    expect(parseAccessLogLine('')).toBeUndefined();
    // escape=json: a quote in the URI stays valid JSON
    expect(parseAccessLogLine(line({ uri: '/a"b\\c' }))?.status).toBe(200);
  });
});

describe('parseStubStatus', () => {
  it('reads the stub_status counters', () => {
    const text = 'Active connections: 3 \nserver accepts handled requests\n 10 10 25 \nReading: 0 Writing: 1 Waiting: 2 \n';
    expect(parseStubStatus(text)).toEqual({ active: 3, accepts: 10, handled: 10, requests: 25, reading: 0, writing: 1, waiting: 2 });
    expect(parseStubStatus('nope')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import {
  UnsafeNginxValueError,
  assertHostname,
  assertLoopbackIpv4,
  assertPeerIpv4,
  assertNginxToken,
  assertPathPrefix,
  assertPort,
  nginxString,
} from '../../../src/render/nginx-quote.js';

const HOSTILE = [
  'a;b',
  'a}b',
  'a{b',
  'a$host',
  '${x}',
  'a\nb',
  'a\rb',
  'a\u0000b',
  'a\tb',
  'a\u2028b',
  'x'.repeat(5000),
  '',
];

describe('nginxString', () => {
  it.each([
    ['plain', '"plain"'],
    ['with "quotes"', '"with \\"quotes\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['/tmp/ünïcödé/logs', '"/tmp/ünïcödé/logs"'],
    ["it's", '"it\'s"'],
  ])('quotes %j', (value, expected) => {
    expect(nginxString(value)).toBe(expected);
  });

  it.each(HOSTILE.map((v) => [JSON.stringify(v).slice(0, 30), v]))('refuses %s', (_label, value) => {
    expect(() => nginxString(value)).toThrow(UnsafeNginxValueError);
  });

  it('refuses non-strings', () => {
    expect(() => nginxString(42)).toThrow(UnsafeNginxValueError);
    expect(() => nginxString(undefined)).toThrow(UnsafeNginxValueError);
  });
});

describe('validators', () => {
  it.each(['web', 'a', 'my-app-2', 'x'.repeat(63)])('token accepts %s', (v) => expect(assertNginxToken(v)).toBe(v));
  it.each(['Web', '-a', 'a-', 'a_b', 'a.b', 'x'.repeat(64), '', 'a;', 'ä'])('token refuses %j', (v) => {
    expect(() => assertNginxToken(v)).toThrow(UnsafeNginxValueError);
  });

  it.each(['localhost', 'web.localhost', 'a-b.example.com', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`])(
    'hostname accepts %s',
    (v) => expect(assertHostname(v)).toBe(v),
  );
  it.each([
    '*.example.com',
    'a..b',
    'a.b.',
    'host:80',
    'café.localhost',
    'a b',
    'a;b',
    'a}b',
    'a$b',
    'a\nb',
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`, // 255 chars
    'x'.repeat(64),
  ])('hostname refuses %j', (v) => expect(() => assertHostname(v)).toThrow(UnsafeNginxValueError));

  it.each(['/', '/api', '/api/', '/a.b_c~d-e/f'])('pathPrefix accepts %s', (v) => expect(assertPathPrefix(v)).toBe(v));
  it.each(['', 'api', '/a b', '/a;b', '/a{b', '/a}b', '/$uri', '/a%2F', '/a?b', '/a#b', '//', '/a//b', '/ä', '/a"b', '/a\nb'])(
    'pathPrefix refuses %j',
    (v) => expect(() => assertPathPrefix(v)).toThrow(UnsafeNginxValueError),
  );

  it.each([1, 80, 65535])('port accepts %s', (v) => expect(assertPort(v)).toBe(v));
  it.each([0, -1, 65536, 1.5, NaN, '80'])('port refuses %j', (v) => expect(() => assertPort(v)).toThrow(UnsafeNginxValueError));

  it.each(['127.0.0.1', '127.1.2.3'])('loopback accepts %s', (v) => expect(assertLoopbackIpv4(v)).toBe(v));
  it.each(['10.0.0.1', '172.18.0.2', 'localhost', '127.0.0.256'])('loopback refuses %j', (v) => expect(() => assertLoopbackIpv4(v)).toThrow(UnsafeNginxValueError));
  it.each(['127.0.0.1', '127.1.2.3', '172.18.0.2', '172.31.255.254', '10.0.0.1', '192.168.16.3'])('peer accepts %s', (v) =>
    expect(assertPeerIpv4(v)).toBe(v),
  );
  it.each(['8.8.8.8', '172.32.0.1', '172.15.0.1', '192.169.0.1', '169.254.1.1', '0.0.0.0', '010.0.0.1', 'localhost', '127.0.0.256', '127.0.0.1:80', '127.0.0.1;', '::1'])(
    'peer refuses %j',
    (v) => expect(() => assertPeerIpv4(v)).toThrow(UnsafeNginxValueError),
  );
});

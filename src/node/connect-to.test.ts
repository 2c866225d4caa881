import { describe, expect, it } from 'vitest';
import { ConnectToError, formatConnectTo, parseConnectTo, resolveConnectTarget } from './connect-to.js';

describe('parseConnectTo', () => {
  it.each([
    [
      'mx1.example.com:25:127.0.0.1:2525',
      { host: 'mx1.example.com', port: 25, toAddress: '127.0.0.1', toPort: 2525 },
    ],
    [
      'MX1.Example.COM.:25:127.0.0.1:2525',
      { host: 'mx1.example.com', port: 25, toAddress: '127.0.0.1', toPort: 2525 },
    ],
    ['[2001:db8::1]:443:[::1]:8443', { host: '2001:db8::1', port: 443, toAddress: '::1', toPort: 8443 }],
    ['192.0.2.1:25:localhost:2525', { host: '192.0.2.1', port: 25, toAddress: 'localhost', toPort: 2525 }],
    ['::127.0.0.1:2525', { host: '', port: 0, toAddress: '127.0.0.1', toPort: 2525 }],
    ['example.com::127.0.0.1:1', { host: 'example.com', port: 0, toAddress: '127.0.0.1', toPort: 1 }],
  ])('parses %s', (spec, expected) => {
    expect(parseConnectTo(spec)).toEqual(expected);
  });

  it.each([
    'example.com:25:127.0.0.1',
    'example.com:25',
    'example.com:x:127.0.0.1:25',
    'example.com:25:127.0.0.1:0',
    'example.com:25:127.0.0.1:70000',
    'example.com:25::25',
    '[2001:db8::1:25:127.0.0.1:25',
    '[not-v6]:25:127.0.0.1:25',
    'bad host:25:127.0.0.1:25',
  ])('rejects %s with a clear error', (spec) => {
    expect(() => parseConnectTo(spec)).toThrow(ConnectToError);
  });

  it('round-trips through formatConnectTo', () => {
    for (const spec of ['a.example:25:127.0.0.1:2525', '[2001:db8::1]:443:[::1]:8443', '::127.0.0.1:2525']) {
      expect(formatConnectTo(parseConnectTo(spec))).toBe(spec);
    }
  });
});

describe('resolveConnectTarget', () => {
  const list = [
    parseConnectTo('mx.example.com:25:127.0.0.1:1001'),
    parseConnectTo('192.0.2.7:25:127.0.0.1:1002'),
    parseConnectTo('mx.example.com:443:127.0.0.1:1003'),
  ];

  it('prefers an address match over a host match', () => {
    expect(resolveConnectTarget(list, 'mx.example.com', '192.0.2.7', 25)).toMatchObject({ port: 1002 });
  });

  it('matches the host name case-insensitively and by port', () => {
    expect(resolveConnectTarget(list, 'MX.example.com.', '192.0.2.9', 25)).toMatchObject({ port: 1001 });
    expect(resolveConnectTarget(list, 'mx.example.com', '192.0.2.9', 443)).toMatchObject({ port: 1003 });
  });

  it('leaves other connections alone', () => {
    expect(resolveConnectTarget(list, 'other.example', '192.0.2.9', 25)).toEqual({
      address: '192.0.2.9',
      port: 25,
    });
    expect(resolveConnectTarget(undefined, 'x', '192.0.2.9', 25)).toEqual({ address: '192.0.2.9', port: 25 });
  });

  it('uses a wildcard entry last', () => {
    const withAny = [...list, parseConnectTo('::127.0.0.1:9')];
    expect(resolveConnectTarget(withAny, 'other.example', '192.0.2.9', 25)).toMatchObject({ port: 9 });
    expect(resolveConnectTarget(withAny, 'mx.example.com', '192.0.2.9', 25)).toMatchObject({ port: 1001 });
  });
});

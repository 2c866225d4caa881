import { describe, expect, it } from 'vitest';
import { DnsConfigError, parseDnsServer } from './dns.js';

describe('parseDnsServer', () => {
  it.each([
    ['192.0.2.53', { address: '192.0.2.53', port: 53 }],
    ['127.0.0.1:5353', { address: '127.0.0.1', port: 5353 }],
    ['2001:db8::53', { address: '2001:db8::53', port: 53 }],
    ['[2001:db8::53]:5353', { address: '2001:db8::53', port: 5353 }],
    ['[::1]', { address: '::1', port: 53 }],
  ])('parses %s', (spec, expected) => {
    expect(parseDnsServer(spec)).toEqual(expected);
  });

  it.each(['dns.example', '127.0.0.1:0', '127.0.0.1:65536', '[127.0.0.1]:53', '1.2.3:53', ''])(
    'rejects %s',
    (spec) => {
      expect(() => parseDnsServer(spec)).toThrow(DnsConfigError);
    },
  );
});

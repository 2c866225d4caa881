import { describe, expect, it } from 'vitest';
import {
  encodeNetstring,
  formatPolicyReply,
  NetstringDecoder,
  NetstringError,
  parseSocketmapRequest,
  postfixMatchList,
  socketmapKeyToDomain,
} from './socketmap.js';

describe('NetstringDecoder', () => {
  it('decodes pipelined netstrings split at every byte', () => {
    const wire = Buffer.from(encodeNetstring('postfix a.example') + encodeNetstring('postfix b.example'));
    const d = new NetstringDecoder();
    const out: string[] = [];
    for (const byte of wire) out.push(...d.push(Uint8Array.of(byte)).map((b) => b.toString()));
    expect(out).toEqual(['postfix a.example', 'postfix b.example']);
    expect(d.buffered).toBe(0);
  });

  it('counts the length in bytes, not characters', () => {
    const d = new NetstringDecoder();
    expect(d.push(Buffer.from(encodeNetstring('x bücher.example')))[0]!.toString()).toBe('x bücher.example');
  });

  it.each([
    ['abc:', 'netstring-malformed'],
    [':x,', 'netstring-malformed'],
    ['3:abc;', 'netstring-malformed'],
    ['1025:', 'netstring-too-large'],
    ['99999', 'netstring-too-large'],
  ])('rejects %j', (wire, code) => {
    const d = new NetstringDecoder();
    let err: unknown;
    try {
      d.push(Buffer.from(wire));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetstringError);
    expect((err as NetstringError).code).toBe(code);
  });
});

describe('requests and keys', () => {
  it('splits NAME key', () => {
    expect(parseSocketmapRequest('postfix example.com')).toEqual({ name: 'postfix', key: 'example.com' });
    expect(parseSocketmapRequest('postfix')).toBeUndefined();
    expect(parseSocketmapRequest(' example.com')).toBeUndefined();
  });

  it.each([
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['[example.com]', 'example.com'],
    ['[example.com]:587', 'example.com'],
    ['example.com:25', 'example.com'],
    ['.example.com', undefined],
    ['[1.2.3.4]', undefined],
    ['1.2.3.4', undefined],
    ['[a:bb:ccc::dddd]:123', undefined],
    ['2001:db8::1', undefined],
    ['exa mple.com', undefined],
    ['', undefined],
  ])('%j -> %j', (key, domain) => {
    expect(socketmapKeyToDomain(key)).toBe(domain);
  });
});

describe('replies', () => {
  const policy = {
    mode: 'enforce' as const,
    mx: ['mail.example.com', '*.Example.NET', 'mail.example.com'],
    maxAge: 86400,
  };
  it('turns wildcards into Postfix parent-domain matches, dedupes, keeps order', () => {
    expect(postfixMatchList(policy.mx)).toEqual(['mail.example.com', '.example.net']);
  });
  it('enforce', () => {
    expect(formatPolicyReply('example.com', policy)).toBe(
      'OK secure match=mail.example.com:.example.net servername=hostname',
    );
    expect(formatPolicyReply('example.com', policy, { requireSni: false })).toBe(
      'OK secure match=mail.example.com:.example.net',
    );
  });
  it('testing and none deliver as usual unless strict_testing', () => {
    const testing = { ...policy, mode: 'testing' as const };
    expect(formatPolicyReply('example.com', testing)).toBe('NOTFOUND ');
    expect(formatPolicyReply('example.com', testing, { strictTesting: true })).toMatch(/^OK secure /);
    expect(formatPolicyReply('example.com', { ...policy, mode: 'none' }, { strictTesting: true })).toBe(
      'NOTFOUND ',
    );
    expect(formatPolicyReply('example.com', undefined)).toBe('NOTFOUND ');
  });
  it('appends the TLSRPT attributes for Postfix >= 3.10', () => {
    expect(formatPolicyReply('example.com', { ...policy, mx: ['*.example.net'] }, { tlsrpt: true })).toBe(
      'OK secure match=.example.net servername=hostname policy_type=sts policy_domain=example.com ' +
        'mx_host_pattern=*.example.net { policy_string = version: STSv1 } { policy_string = mode: enforce } ' +
        '{ policy_string = mx: *.example.net } { policy_string = max_age: 86400 }',
    );
  });
});

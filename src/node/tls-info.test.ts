import { describe, expect, it } from 'vitest';
import { isOutdatedProtocol, parseSanDnsNames, trustAnchors } from './tls-info.js';

describe('parseSanDnsNames', () => {
  it('keeps dNSName entries only, lowercased', () => {
    expect(parseSanDnsNames('DNS:MX1.Example.com, IP Address:192.0.2.1, DNS:*.example.com')).toEqual([
      'mx1.example.com',
      '*.example.com',
    ]);
  });

  it('unquotes names Node quoted', () => {
    expect(parseSanDnsNames('DNS:"a\\u002cb.example", DNS:c.example')).toEqual(['a,b.example', 'c.example']);
  });

  it('copes with nothing', () => {
    expect(parseSanDnsNames(undefined)).toEqual([]);
    expect(parseSanDnsNames('')).toEqual([]);
    expect(parseSanDnsNames('email:a@b.example')).toEqual([]);
  });
});

describe('trust anchors', () => {
  it('uses Node defaults, adds a CA, or trusts only the CA', () => {
    expect(trustAnchors({})).toBeUndefined();
    expect(trustAnchors({ useSystemCa: false })).toEqual([]);
    expect(trustAnchors({ caPem: 'PEM', useSystemCa: false })).toEqual(['PEM']);
    const both = trustAnchors({ caPem: 'PEM' }) ?? [];
    expect(both.length).toBeGreaterThan(10);
    expect(both[both.length - 1]).toBe('PEM');
  });

  it('knows which protocols are too old', () => {
    expect(isOutdatedProtocol('TLSv1')).toBe(true);
    expect(isOutdatedProtocol('TLSv1.1')).toBe(true);
    expect(isOutdatedProtocol('TLSv1.2')).toBe(false);
    expect(isOutdatedProtocol('TLSv1.3')).toBe(false);
  });
});

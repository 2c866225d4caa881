import { describe, expect, it } from 'vitest';
import { SimZoneData, splitTxt } from './zone.js';

function zone(): SimZoneData {
  const z = new SimZoneData();
  z.addZone('example.test');
  z.add('example.test', { type: 'MX', data: { preference: 10, exchange: 'mx.example.test' } });
  z.add('mx.example.test', { type: 'A', data: '127.1.0.1' });
  z.add('_smtp._tls.example.test', { type: 'TXT', data: ['v=TLSRPTv1; rua=mailto:a@b.test'] });
  z.add('alias.example.test', { type: 'CNAME', data: 'mx.example.test' });
  z.add('away.example.test', { type: 'CNAME', data: 'target.other.test' });
  z.add('loop1.example.test', { type: 'CNAME', data: 'loop2.example.test' });
  z.add('loop2.example.test', { type: 'CNAME', data: 'loop1.example.test' });
  z.add('target.other.test', { type: 'A', data: '127.1.0.9' });
  z.addFault({ name: 'bad.example.test', fault: 'servfail' });
  z.addFault({ name: 'slow.example.test', type: 'TXT', fault: 'timeout' });
  z.closeZones();
  return z;
}

describe('SimZoneData', () => {
  it('answers authoritatively with records', () => {
    const r = zone().answer('MX.Example.Test.', 'A');
    expect(r).toMatchObject({ drop: false, rcode: 'NOERROR', authoritative: true });
    if (!r.drop) expect(r.answers).toEqual([expect.objectContaining({ type: 'A', data: '127.1.0.1' })]);
  });

  it('tells NXDOMAIN from NODATA, empty non-terminals included', () => {
    const z = zone();
    expect(z.answer('nothing.example.test', 'A')).toMatchObject({ rcode: 'NXDOMAIN', authoritative: true });
    expect(z.answer('mx.example.test', 'AAAA')).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(z.answer('_tls.example.test', 'TXT')).toMatchObject({ rcode: 'NOERROR', answers: [] });
    const nx = z.answer('nothing.example.test', 'A');
    if (!nx.drop) expect(nx.authorities[0]).toMatchObject({ type: 'SOA', name: 'example.test' });
  });

  it('follows a CNAME in the same zone, not into another one', () => {
    const z = zone();
    const same = z.answer('alias.example.test', 'A');
    if (!same.drop) expect(same.answers.map((a) => a.type)).toEqual(['CNAME', 'A']);
    const away = z.answer('away.example.test', 'A');
    if (!away.drop) {
      expect(away.answers.map((a) => a.type)).toEqual(['CNAME']);
      expect(away.authorities).toEqual([]);
    }
    const cnameItself = z.answer('alias.example.test', 'CNAME');
    if (!cnameItself.drop) expect(cnameItself.answers).toHaveLength(1);
    const loop = z.answer('loop1.example.test', 'A');
    expect(loop).toMatchObject({ rcode: 'NOERROR' });
  });

  it('applies faults and refuses foreign names', () => {
    const z = zone();
    expect(z.answer('bad.example.test', 'A')).toMatchObject({ rcode: 'SERVFAIL', authoritative: false });
    expect(z.answer('slow.example.test', 'TXT')).toEqual({ drop: true });
    expect(z.answer('slow.example.test', 'A')).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(z.answer('www.elsewhere.invalid', 'A')).toMatchObject({ rcode: 'REFUSED', authoritative: false });
  });

  it('splits long TXT strings at 255 bytes', () => {
    expect(splitTxt('short')).toEqual(['short']);
    const parts = splitTxt('a'.repeat(600));
    expect(parts.map((p) => p.length)).toEqual([255, 255, 90]);
    const wide = splitTxt('é'.repeat(200));
    expect(wide.map((p) => Buffer.byteLength(p))).toEqual([254, 146]);
    expect(wide.join('')).toBe('é'.repeat(200));
  });
});

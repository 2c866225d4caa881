import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatStsRecord, parseStsRecords } from './sts-record.js';
import { formatTlsrptRecord, parseTlsrptRecords } from './tlsrpt-record.js';

describe('_mta-sts record', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{1,32}$/), (id) => {
        const r = parseStsRecords([formatStsRecord({ id })]);
        expect(r.ok && r.value.id).toBe(id);
      }),
    );
  });
  it('round-trips when split into strings at any point', () => {
    const text = formatStsRecord({ id: '20261130120000Z', extensions: { ext: 'v1' } });
    for (let i = 0; i <= text.length; i++) {
      const r = parseStsRecords([[text.slice(0, i), text.slice(i)]]);
      expect(r.ok).toBe(true);
    }
  });
  it('never throws', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })), { maxLength: 4 }),
        (records) => {
          const r = parseStsRecords(records);
          expect(r.ok || r.findings.length > 0).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string(), (s) => void parseStsRecords([`v=STSv1;${s}`])),
      { numRuns: 2000 },
    );
  });
});

describe('_smtp._tls record', () => {
  it('round-trips', () => {
    const uri = fc.oneof(
      fc.stringMatching(/^[a-z0-9.+-]{1,20}$/).map((l) => `mailto:${l}@reports.example.net`),
      fc.stringMatching(/^[a-z0-9/_-]{0,20}$/).map((p) => `https://reports.example.net/${p}`),
    );
    fc.assert(
      fc.property(fc.uniqueArray(uri, { minLength: 1, maxLength: 3 }), (rua) => {
        const r = parseTlsrptRecords([formatTlsrptRecord({ rua })]);
        expect(r.ok && r.value.rua).toEqual(rua);
      }),
    );
  });
  it('never throws', () => {
    fc.assert(
      fc.property(fc.string(), (s) => void parseTlsrptRecords([`v=TLSRPTv1;${s}`, s])),
      { numRuns: 2000 },
    );
  });
});

// End to end with a real Postfix (Debian package `postfix`): Postfix asks our daemon over
// socketmap for each recipient domain's TLS policy and sends mail to simulated MX hosts.
// Runs in a network namespace of its own (needs root, util-linux `unshare`, iproute2 `ip`).
import { describe, expect, it } from 'vitest';
import { requirePrograms, runPostfixWorld } from './helpers/postfix.js';

const available = requirePrograms(['postfix', 'postmap', 'unshare', 'ip']);
const isRoot = process.getuid?.() === 0;
if (available && !isRoot && process.env.CI)
  throw new Error('the Postfix end-to-end test needs root (network namespace)');

const scenario = {
  domains: [
    { name: 'enforce-ok.test', mx: [{ host: 'mail.enforce-ok.test' }], stsRecord: { id: 'e1' } },
    {
      name: 'enforce-badcert.test',
      mx: [{ host: 'mail.enforce-badcert.test', faults: { cert: 'wrong-name' } }],
      stsRecord: { id: 'e2' },
    },
    {
      name: 'testing.test',
      mx: [{ host: 'mail.testing.test', faults: { cert: 'wrong-name' } }],
      stsRecord: { id: 't1' },
      policy: { mode: 'testing' },
    },
    { name: 'nopolicy.test', mx: [{ host: 'mail.nopolicy.test', faults: { cert: 'self-signed' } }] },
  ],
};

describe.skipIf(!available || !isRoot)('Postfix end to end', () => {
  it('enforces, defers, delivers as the policies say; postmap sees our replies', async () => {
    const r = await runPostfixWorld({
      scenario,
      recipients: ['a@enforce-ok.test', 'b@enforce-badcert.test', 'c@testing.test', 'd@nopolicy.test'],
      postmapKeys: ['enforce-ok.test', 'testing.test', 'nopolicy.test', '[enforce-ok.test]:25'],
    });
    const context = `${r.error ?? ''}\n${r.log.join('\n')}`;
    expect(r.error, context).toBeUndefined();
    // postmap prints the value after "OK "; NOTFOUND is "not found" (exit 1).
    expect(r.postmap).toEqual({
      'enforce-ok.test': 'secure match=mail.enforce-ok.test servername=hostname',
      'testing.test': null,
      'nopolicy.test': null,
      '[enforce-ok.test]:25': 'secure match=mail.enforce-ok.test servername=hostname',
    });
    // (a) enforce, valid certificate: delivered over a verified TLS connection.
    expect(r.status['a@enforce-ok.test'], context).toBe('sent');
    expect(
      r.log.some((l) => /Verified TLS connection established to mail\.enforce-ok\.test/.test(l)),
      context,
    ).toBe(true);
    // (b) enforce, certificate for another name: deferred, never sent in clear.
    expect(r.status['b@enforce-badcert.test'], context).toBe('deferred');
    // (c) testing: delivered despite the bad certificate. (d) no policy: delivered.
    expect(r.status['c@testing.test'], context).toBe('sent');
    expect(r.status['d@nopolicy.test'], context).toBe('sent');
    expect(r.delivered).toBe(3);
  }, 180_000);
});

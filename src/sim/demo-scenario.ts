// The built-in scenario behind `mta-sts demo`: three domains on the simulator, one healthy,
// one in testing mode with a certificate problem, one with a stale setup.
import type { ScenarioInput } from './scenario.js';

export const demoScenario: ScenarioInput = {
  domains: [
    {
      // Everything right: enforce, two MX with valid certificates, reports go to another domain.
      name: 'healthy.example',
      mx: [
        { host: 'mx1.healthy.example', priority: 10, addresses: 2 },
        { host: 'mx2.healthy.example', priority: 20, addresses: 1 },
      ],
      stsRecord: { id: '20250101T000000' },
      policy: { mode: 'enforce', maxAge: 604800 },
      tlsrpt: { rua: 'mailto:tlsrpt@reports.example' },
    },
    {
      // Testing mode, and the second MX presents a certificate for another name.
      name: 'testing.example',
      mx: [
        { host: 'mx1.testing.example', priority: 10 },
        { host: 'mx2.testing.example', priority: 20, faults: { cert: 'wrong-name' } },
      ],
      stsRecord: { id: '2025testing1' },
      policy: { mode: 'testing', maxAge: 86400 },
      tlsrpt: { rua: 'mailto:tlsrpt@reports.example' },
    },
    {
      // A stale setup: a new MX was added but the policy still lists only the old one,
      // and TLS reports would go to a mailbox on the domain itself.
      name: 'stale.example',
      mx: [
        { host: 'mx1.stale.example', priority: 10 },
        { host: 'mx2.stale.example', priority: 20 },
      ],
      stsRecord: { id: '2019stale' },
      policy: { mode: 'enforce', maxAge: 604800, mx: ['mx1.stale.example'] },
      tlsrpt: { rua: 'mailto:tlsrpt@stale.example' },
    },
  ],
};

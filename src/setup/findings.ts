// Finding codes of the set-up commands (init, records, policy set). Registered with the core
// catalogue so finding() and renderFinding() treat them like every other code.
import { type CatalogueEntry, registerFindingCodes } from '../core/findings.js';

export const SETUP_FINDING_CODES = {
  'setup.domain-invalid': {
    severity: 'error',
    message: 'The domain is not a valid domain name',
    hint: 'Give the mail domain itself, e.g. example.com (not a URL, not an e-mail address).',
  },
  'setup.no-mx': {
    severity: 'error',
    rfc: 'RFC 8461 §3.2',
    message: 'The domain has no MX records and no --mx pattern was given: the policy would list no mail host',
    hint: 'Give the mail hosts with --mx mx1.example.com (repeat for each), or publish the MX records first.',
  },
  'setup.null-mx': {
    severity: 'error',
    rfc: 'RFC 7505 §3',
    message:
      'The domain publishes a null MX ("."): it accepts no mail, so an MTA-STS policy protects nothing',
    hint: 'Publish the real MX records first, or give --mx explicitly.',
  },
  'setup.mx-lookup-failed': {
    severity: 'error',
    message: 'The MX lookup failed, so the mail hosts could not be proposed',
    hint: 'Retry, pass --resolver IP[:PORT], or give the hosts with --mx.',
  },
  'setup.mx-wildcard-possible': {
    severity: 'info',
    rfc: 'RFC 8461 §4.1',
    message: 'Several MX hosts share a parent domain: one "*." pattern could cover them',
    hint: 'A "*." pattern also covers every other one-label name under that parent.',
  },
  'setup.pages-host-invalid': {
    severity: 'error',
    message: 'The --pages-host value is not a host name',
    hint: 'Give the GitHub Pages host of the repository owner, e.g. --pages-host octocat.github.io.',
  },
  'setup.pages-host-missing': {
    severity: 'info',
    message: 'No --pages-host given: the CNAME target for mta-sts.<domain> is not known yet',
    hint: 'Run `mta-sts policy set --pages-host USER.github.io` (or init again with it) to get the exact record.',
  },
  'setup.testing-long': {
    severity: 'warning',
    rfc: 'RFC 8461 §5',
    message: 'The policy has been in testing mode for a long time: senders still deliver over failed TLS',
    hint: 'If the TLS reports show no failures, move on: mta-sts policy set --mode enforce.',
  },
  'setup.config-drift': {
    severity: 'warning',
    message:
      'The config file differs from the recorded state: the published id does not match this policy yet',
    hint: 'Run `mta-sts init --config FILE` to regenerate the sites and give the changed policies a new id.',
  },
} as const satisfies Record<string, CatalogueEntry>;

registerFindingCodes(SETUP_FINDING_CODES);

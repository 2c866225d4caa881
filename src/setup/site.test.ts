import { describe, expect, it } from 'vitest';
import { lint } from '../core/lint.js';
import { type DomainState, SITE_TARGETS } from './model.js';
import { generateSite, POLICY_PATH } from './site.js';

const base: DomainState = {
  domain: 'example.com',
  mode: 'testing',
  mx: ['mx1.example.com', '*.mail.example.com'],
  maxAge: 604800,
  rua: ['mailto:tlsrpt@reports.example.net'],
  pagesHost: 'octocat.github.io',
  id: '20261130120000Z',
  idSetAt: '2026-11-30T12:00:00Z',
  modeSince: '2026-11-30T12:00:00Z',
};
const other: DomainState = { ...base, domain: 'example.org', mode: 'enforce', mx: ['mx.example.org'] };

describe('generateSite', () => {
  it('writes the GitHub Pages files: policy, CNAME, .nojekyll, _config.yml, .gitattributes, robots, index, README', () => {
    const files = generateSite({ target: 'github-pages', domains: [base] });
    expect([...files.keys()].sort()).toEqual(
      [
        '.gitattributes',
        '.nojekyll',
        POLICY_PATH,
        'CNAME',
        'README.md',
        '_config.yml',
        'index.html',
        'robots.txt',
      ].sort(),
    );
    expect(files.get('CNAME')).toBe('mta-sts.example.com\n');
    expect(files.get('_config.yml')).toContain('include: [".well-known"]');
    expect(files.get(POLICY_PATH)).not.toContain('\r');
    expect(files.get('README.md')).toContain(
      '_mta-sts.example.com.  3600  IN  TXT  "v=STSv1; id=20261130120000Z"',
    );
    expect(files.get('README.md')).toContain('RFC 8461 §8.1');
  });

  it('escapes what it puts in the HTML page', () => {
    const html = generateSite({ target: 'static', domains: [base] }).get('index.html')!;
    expect(html).toContain('<pre>version: STSv1\nmode: testing');
    expect(html).not.toMatch(/<script/i);
  });

  it.each(SITE_TARGETS)('every %s policy passes lint without an error', (target) => {
    const domains = target === 'github-pages' || target === 'static' ? [base] : [base, other];
    const files = generateSite({ target, domains, serverRoot: '/srv/mta-sts' });
    const policies = [...files.entries()].filter(([p]) => p.endsWith(POLICY_PATH));
    expect(policies).toHaveLength(domains.length);
    for (const [, text] of policies) expect(lint({ policy: text }).valid).toBe(true);
  });

  it('refuses several domains for a one-host target', () => {
    expect(() => generateSite({ target: 'github-pages', domains: [base, other] })).toThrow(/one policy host/);
  });

  it('writes an nginx server block per host that serves exactly the policy as text/plain', () => {
    const conf = generateSite({ target: 'nginx', domains: [base, other], serverRoot: '/srv/m' }).get(
      'nginx.conf',
    )!;
    expect(conf).toContain('server_name mta-sts.example.org;');
    expect(conf).toContain('root /srv/m/mta-sts.example.org;');
    expect(conf).toContain('location = /.well-known/mta-sts.txt');
    expect(conf).toContain('default_type text/plain;');
    expect(conf).toContain('return 404;');
    const caddy = generateSite({ target: 'caddy', domains: [base], serverRoot: '/srv/m' }).get('Caddyfile')!;
    expect(caddy).toContain('mta-sts.example.com {');
    expect(caddy).toContain('root * /srv/m\n');
  });

  it('writes a Cloudflare Worker that answers the policy path only, with text/plain', async () => {
    const files = generateSite({ target: 'cloudflare-worker', domains: [base, other] });
    expect(files.get('wrangler.toml')).toContain('{ pattern = "mta-sts.example.org", custom_domain = true }');
    const source = files.get('worker.js')!;
    const mod = (await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`)) as {
      default: { fetch(r: Request): Promise<Response> };
    };
    const ok = await mod.default.fetch(new Request('https://MTA-STS.example.org/.well-known/mta-sts.txt'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await ok.text()).toBe('version: STSv1\nmode: enforce\nmx: mx.example.org\nmax_age: 604800\n');
    expect((await mod.default.fetch(new Request('https://mta-sts.example.org/'))).status).toBe(404);
    expect(
      (await mod.default.fetch(new Request('https://mta-sts.example.net/.well-known/mta-sts.txt'))).status,
    ).toBe(404);
    expect(
      (
        await mod.default.fetch(
          new Request('https://mta-sts.example.org/.well-known/mta-sts.txt', { method: 'POST' }),
        )
      ).status,
    ).toBe(405);
  });
});

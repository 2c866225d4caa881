// HTML built by a tagged template that escapes every interpolated value unless it is already
// markup made by this module. Report fields are attacker-controlled (RFC 8460 reports come from
// anyone who can send mail or POST), so escaping is the default, never an afterthought.

const SAFE = Symbol('safe-html');

export interface SafeHtml {
  readonly [SAFE]: true;
  readonly html: string;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function isSafe(v: unknown): v is SafeHtml {
  return typeof v === 'object' && v !== null && (v as { [SAFE]?: boolean })[SAFE] === true;
}

/** Mark trusted markup (only for strings built in this codebase, never for input). */
export function raw(markup: string): SafeHtml {
  return { [SAFE]: true, html: markup };
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(v: Interpolation): string {
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  if (isSafe(v)) return v.html;
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return raw(out);
}

export function htmlResponse(body: SafeHtml, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body.html, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', ...headers },
  });
}

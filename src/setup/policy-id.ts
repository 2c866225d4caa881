// Policy ids: the UTC timestamp form YYYYMMDDhhmmssZ (fits the RFC 8461 §3.1 id grammar of 1 to
// 32 letters and digits), minted only when the policy content changes and strictly increasing,
// so a sender comparing ids never mistakes a new policy for the cached one.

const ID_FORMAT = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/** The id for an instant: its UTC second as YYYYMMDDhhmmssZ. */
export function formatPolicyId(at: Date): string {
  const iso = at.toISOString(); // 2026-11-30T12:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** The instant a timestamp id names, or undefined when the id is not of that form. */
export function parsePolicyId(id: string): Date | undefined {
  const m = ID_FORMAT.exec(id);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const date = new Date(ms);
  // Reject 20261340…: Date.UTC would silently roll it over.
  return formatPolicyId(date) === id ? date : undefined;
}

/**
 * A fresh id for a policy change at `now`: now's second, or one second past the previous id when
 * that is not later (two changes within one second, or a clock that went back).
 */
export function nextPolicyId(now: Date, previous?: string): string {
  const floor = Math.floor(now.getTime() / 1000) * 1000;
  const prev = previous === undefined ? undefined : parsePolicyId(previous);
  if (prev && prev.getTime() >= floor) return formatPolicyId(new Date(prev.getTime() + 1000));
  return formatPolicyId(new Date(floor));
}

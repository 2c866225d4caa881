// When to renew a certificate: a pure function of its dates and the time now.
const DAY_MS = 86_400_000;

export interface RenewalDecision {
  due: boolean;
  /** When renewal becomes due (ISO), for logs and metrics. */
  dueAt: string;
  reason: string;
}

/**
 * Renew once a third of the lifetime is left, but no later than 30 days before expiry
 * (for a 90-day certificate: 30 days before; for short-lived ones: a third of their life).
 */
export function renewalDue(notBefore: Date, notAfter: Date, now: Date): RenewalDecision {
  const lifetime = Math.max(0, notAfter.getTime() - notBefore.getTime());
  const margin = Math.min(lifetime / 3, 30 * DAY_MS);
  const dueAt = new Date(notAfter.getTime() - margin);
  if (now.getTime() >= notAfter.getTime())
    return { due: true, dueAt: dueAt.toISOString(), reason: 'expired' };
  if (now.getTime() >= dueAt.getTime())
    return {
      due: true,
      dueAt: dueAt.toISOString(),
      reason: `expires in ${Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS)} days`,
    };
  return { due: false, dueAt: dueAt.toISOString(), reason: 'not yet due' };
}

/** Whole days until expiry (negative once expired), as /metrics reports it. */
export function daysUntil(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}

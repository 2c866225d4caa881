// Dashboard access: a bearer token or basic auth, from the config or the environment; a login
// form trades either for a signed, expiring session cookie so a browser can use the pages.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface DashboardAuth {
  token?: string;
  basic?: { user: string; password: string };
}

export const SESSION_COOKIE = 'mta_sts_session';
export const SESSION_SECONDS = 12 * 3600;

function sameSecret(a: string, b: string): boolean {
  // Compare digests so the comparison takes the same time whatever the lengths.
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

export function authConfigured(auth: DashboardAuth | undefined): boolean {
  return Boolean(auth && (auth.token || auth.basic));
}

function sessionKey(auth: DashboardAuth): string {
  return `${auth.token ?? ''}\u0000${auth.basic ? `${auth.basic.user}:${auth.basic.password}` : ''}`;
}

export function signSession(auth: DashboardAuth, expiresAtSeconds: number): string {
  const mac = createHmac('sha256', sessionKey(auth))
    .update(`session:${expiresAtSeconds}`)
    .digest('base64url');
  return `${expiresAtSeconds}.${mac}`;
}

function validSession(auth: DashboardAuth, value: string, nowSeconds: number): boolean {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return false;
  const exp = Number(m[1]);
  if (exp < nowSeconds) return false;
  return sameSecret(signSession(auth, exp), value);
}

export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Whether a token or user/password pair is right (for the login form). */
export function checkCredentials(
  auth: DashboardAuth,
  given: { token?: string; user?: string; password?: string },
): boolean {
  if (auth.token && given.token !== undefined && given.token !== '' && sameSecret(auth.token, given.token))
    return true;
  if (auth.basic && given.user !== undefined && given.password !== undefined) {
    // Evaluate both comparisons: no early exit on a wrong user name.
    const u = sameSecret(auth.basic.user, given.user);
    const p = sameSecret(auth.basic.password, given.password);
    return u && p;
  }
  return false;
}

/** Whether a request carries valid credentials: Authorization header or session cookie. */
export function isAuthorized(req: Request, auth: DashboardAuth | undefined, nowSeconds: number): boolean {
  if (!authConfigured(auth)) return true;
  const a = auth as DashboardAuth;
  const header = req.headers.get('authorization') ?? '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer && a.token && sameSecret(a.token, bearer[1]!)) return true;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (basic && a.basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (
      colon >= 0 &&
      checkCredentials(a, { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) })
    )
      return true;
  }
  const session = cookieValue(req.headers.get('cookie'), SESSION_COOKIE);
  return session !== undefined && validSession(a, session, nowSeconds);
}

/** Loopback binds may go without credentials; anything else must have them. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The OAuth redirect allow-list (`oauthRedirects` of an app in the apps file). An entry is an
 * https URL (http only for localhost) without query, fragment or user info:
 *
 * - scheme, host and port of the caller's `redirect` must equal the entry's (no wildcard hosts);
 * - an entry whose path ends in `/` allows that path and every path below it
 *   (`https://shop.example.com/oauth/` allows `/oauth/done`, not `/oauthx` or `/other`);
 * - any other entry allows exactly its path (`https://shop.example.com/done`);
 * - the redirect's own query is free and kept; a fragment, user info, a backslash, whitespace or
 *   an encoded `/` or `\` in the path is refused (browsers and servers read those differently).
 *
 * Paths are compared after WHATWG URL parsing, so `/oauth/../admin` is `/admin`.
 */

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** Why an allow-list entry is not usable, or undefined when it is. */
export function redirectEntryProblem(entry: string): string | undefined {
  let u: URL;
  try {
    u = new URL(entry);
  } catch {
    return 'must be an https URL (http only for localhost)';
  }
  const local = LOCAL_HOSTS.includes(u.hostname);
  if (!(u.protocol === 'https:' || (u.protocol === 'http:' && local))) {
    return 'must be an https URL (http only for localhost)';
  }
  if (u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '') {
    return 'must have no query, fragment or user info';
  }
  if (entry.includes('?') || entry.includes('#') || entry.includes('*')) {
    return 'must have no query, fragment or wildcard';
  }
  return undefined;
}

/** The caller's `redirect` as a URL when an entry of `allowed` allows it; undefined otherwise. */
export function allowedRedirect(allowed: readonly string[], redirect: string): URL | undefined {
  if (redirect.length > 2048 || /[\\\s]/.test(redirect)) return undefined;
  let u: URL;
  try {
    u = new URL(redirect);
  } catch {
    return undefined;
  }
  if (u.username !== '' || u.password !== '' || redirect.includes('#')) return undefined;
  if (/%2f|%5c/i.test(u.pathname)) return undefined;
  for (const entry of allowed) {
    let a: URL;
    try {
      a = new URL(entry);
    } catch {
      continue;
    }
    if (a.protocol !== u.protocol || a.host !== u.host) continue;
    const ok = a.pathname.endsWith('/')
      ? u.pathname.startsWith(a.pathname)
      : u.pathname === a.pathname;
    if (ok) return u;
  }
  return undefined;
}

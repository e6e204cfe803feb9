import { INVALID, type Issue, type Path } from './validate';

/**
 * A WeCom self-built app's own field names (https://developer.work.weixin.qq.com/document/path/91039)
 * and the app entry's field each one is stored as: the corp's id is the app's id (and the
 * ReceiveId of its callbacks), the app's secret its secret.
 */
const ALIASES = { corpId: 'appId', corpSecret: 'appSecret' } as const;

const CORP_ID = /^[A-Za-z0-9_-]{4,64}$/;

/**
 * Turns a `kind: wecom` entry of the apps file into the common app entry: `corpId` and
 * `corpSecret` become `appId` and `appSecret` (the admin console writes those names, so they are
 * taken too, but never both for one field), `agentId` (a positive integer or its digits) is
 * checked and kept. Problems are pushed on `issues` under the names written; INVALID then.
 */
export function wecomEntry(
  entry: Record<string, unknown>,
  path: Path,
  issues: Issue[],
): Record<string, unknown> | typeof INVALID {
  const out: Record<string, unknown> = { ...entry };
  let ok = true;
  for (const [alias, field] of Object.entries(ALIASES)) {
    if (!Object.hasOwn(entry, alias)) continue;
    if (Object.hasOwn(entry, field)) {
      issues.push({
        path: [...path, alias],
        message: `and ${field} name the same field: give one`,
      });
      ok = false;
      continue;
    }
    out[field] = entry[alias];
    delete out[alias];
  }
  if (!Object.hasOwn(out, 'appId')) {
    issues.push({ path: [...path, 'corpId'], message: 'is required for wecom apps' });
    ok = false;
  } else if (typeof out.appId !== 'string' || !CORP_ID.test(out.appId)) {
    const at = Object.hasOwn(entry, 'corpId') ? 'corpId' : 'appId';
    issues.push({
      path: [...path, at],
      message: 'must be a corp id such as ww… (4 to 64 letters, digits, _ or -)',
    });
    ok = false;
  }
  if (Object.hasOwn(entry, 'agentId')) {
    const v = entry.agentId;
    const digits = typeof v === 'number' ? String(v) : v;
    if (
      typeof digits !== 'string' ||
      !/^[1-9]\d{0,9}$/.test(digits) ||
      Number(digits) > 2 ** 31 - 1
    ) {
      issues.push({
        path: [...path, 'agentId'],
        message: "must be the app's AgentId (a positive integer)",
      });
      ok = false;
    } else {
      out.agentId = Number(digits);
    }
  }
  return ok ? out : INVALID;
}

/**
 * A problem the common checks found in a converted entry, reported under the name the entry
 * used (`corpSecret`, not `appSecret`); `depth` is the length of the entry's own path.
 */
export function wecomIssue(entry: Record<string, unknown>, depth: number, issue: Issue): Issue {
  const field = issue.path[depth];
  const alias = Object.entries(ALIASES).find(([a, f]) => f === field && Object.hasOwn(entry, a));
  if (alias === undefined) return issue;
  const path = [...issue.path];
  path[depth] = alias[0];
  return { ...issue, path };
}

import { describe } from '../http/app';
import { redactUrls } from '../http/log';
import type { Deps } from '../platform/deps';
import { credentialProblems, ticketAges } from './conditions';

/** One condition a person must act on: its key (one alert per key until it clears) and text. */
export interface AlertCondition {
  key: string;
  /** `credential`, `ticket` or `delivery`. */
  kind: 'credential' | 'ticket' | 'delivery';
  app: string;
  title: string;
  detail: string;
}

/** What one alert pass did. */
export interface AlertSummary {
  raised: string[];
  cleared: string[];
  /** Keys whose webhook call failed: raised again by the next pass. */
  failed: string[];
}

/** The webhook is given this long to answer. */
const WEBHOOK_TIMEOUT_MS = 5_000;

/** Deliveries read to find who has dead ones (the newest first). */
const DEAD_ROWS = 1_000;

/**
 * The conditions that hold now: credentials in a configuration error (40164 with the IP WeChat
 * saw, 40125, 61023, a secret that does not open…), component tickets older than their 12 h,
 * and apps or merchants with dead deliveries. Texts carry names, codes and WeChat's messages,
 * never a secret, token or body.
 */
export async function currentConditions(deps: Deps, now: number): Promise<AlertCondition[]> {
  const out: AlertCondition[] = [];
  for (const p of await credentialProblems(deps.store, now)) {
    if (!p.config) continue;
    const who = p.authorizer === undefined ? p.app : `${p.app} (authorizer ${p.authorizer})`;
    out.push({
      key: `credential:${p.app}/${p.authorizer === undefined ? '' : `${p.authorizer}/`}${p.kind}`,
      kind: 'credential',
      app: p.app,
      title: `${p.kind} of ${who} cannot be refreshed: configuration error${p.code === null ? '' : ` ${p.code}`}`,
      detail: p.error,
    });
  }
  for (const t of await ticketAges(deps.store, now)) {
    if (!t.stale || t.ageSeconds === null) continue;
    out.push({
      key: `ticket:${t.app}`,
      kind: 'ticket',
      app: t.app,
      title: `component_verify_ticket of ${t.app} is ${Math.floor(t.ageSeconds / 3600)} h old (valid 12 h)`,
      detail:
        'WeChat has not pushed a ticket for over 12 hours: check the component message URL; no component token can be fetched without one.',
    });
  }
  const dead = new Map<string, number>();
  for (const d of await deps.store.outbox.list({ status: 'dead', newest: DEAD_ROWS })) {
    dead.set(d.owner, (dead.get(d.owner) ?? 0) + 1);
  }
  for (const [owner, count] of dead) {
    out.push({
      key: `delivery:${owner}`,
      kind: 'delivery',
      app: owner,
      title: `${count} deliver${count === 1 ? 'y' : 'ies'} of ${owner} dead: out of attempts`,
      detail:
        'Forwards that ran out of attempts stay in the outbox: requeue or discard them (console, Outbox).',
    });
  }
  return out;
}

/** A WeCom group robot (https://developer.work.weixin.qq.com/document/path/91770) takes only its own shape. */
const isWecomRobot = (url: string) => /\/cgi-bin\/webhook\/send(\?|$)/.test(url);

/** The body posted: WeCom's markdown message, plus `alert` for other receivers. */
export function alertPayload(
  c: AlertCondition,
  state: 'firing' | 'resolved',
  at: number,
  wecom: boolean,
): Record<string, unknown> {
  const head = state === 'firing' ? '**wxhub alert**' : '**wxhub resolved**';
  const content = `${head}: ${c.title}\n> ${c.detail}\n> ${new Date(at).toISOString()}`;
  const markdown = { msgtype: 'markdown', markdown: { content } };
  if (wecom) return markdown;
  return {
    ...markdown,
    alert: {
      state,
      key: c.key,
      kind: c.kind,
      app: c.app,
      title: c.title,
      detail: c.detail,
      at: new Date(at).toISOString(),
    },
  };
}

async function post(deps: Deps, url: string, body: Record<string, unknown>): Promise<void> {
  const res = await deps.fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    redirect: 'manual',
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  // WeCom answers 200 with an errcode.
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return;
  }
  const errcode = (answer as { errcode?: unknown } | null)?.errcode;
  if (typeof errcode === 'number' && errcode !== 0) throw new Error(`errcode ${errcode}`);
}

/**
 * One alert pass (part of the refresh pass, when `WXHUB_ALERT_WEBHOOK` is set): each condition
 * that holds now and is not raised yet is raised (a row in `alerts`; the instance that inserts it
 * posts it, so it goes out once however many instances run), and each raised one that no longer
 * holds is cleared and said resolved (by the instance that deletes it). A failed post un-raises
 * its condition, so the next pass tries again.
 */
export async function runAlertPass(deps: Deps, url: string): Promise<AlertSummary> {
  const now = deps.clock.now();
  const summary: AlertSummary = { raised: [], cleared: [], failed: [] };
  const wecom = isWecomRobot(url);
  const current = await currentConditions(deps, now);
  const holding = new Set(current.map((c) => c.key));
  for (const c of current) {
    if (!(await deps.store.alerts.raise(c.key, now))) continue;
    try {
      await post(deps, url, alertPayload(c, 'firing', now, wecom));
      summary.raised.push(c.key);
      deps.log.warn({ alert: c.key }, 'alert sent');
    } catch (err) {
      await deps.store.alerts.clear(c.key);
      summary.failed.push(c.key);
      deps.log.error(
        { alert: c.key, webhook: redactUrls(url), err: describe(err) },
        'alert webhook failed; tried again next pass',
      );
    }
  }
  for (const raised of await deps.store.alerts.list()) {
    if (holding.has(raised.key)) continue;
    if (!(await deps.store.alerts.clear(raised.key))) continue;
    summary.cleared.push(raised.key);
    const [kind = 'credential', rest = raised.key] = raised.key.split(/:(.*)/s);
    const app = rest.split('/')[0] ?? rest;
    const resolved: AlertCondition = {
      key: raised.key,
      kind: kind === 'ticket' || kind === 'delivery' ? kind : 'credential',
      app,
      title: `${raised.key} cleared`,
      detail: `raised ${new Date(raised.raisedAt).toISOString()}; the condition no longer holds.`,
    };
    try {
      await post(deps, url, alertPayload(resolved, 'resolved', now, wecom));
    } catch (err) {
      deps.log.warn({ alert: raised.key, err: describe(err) }, 'resolved notice not sent');
    }
  }
  return summary;
}

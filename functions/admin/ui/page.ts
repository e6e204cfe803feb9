import type { Child } from './dom';
import type { Me } from './types';

/** What a page gets from the router: the hash's query and id, and ways to move on. */
export interface PageContext {
  me: Me;
  /** `#/messages/42` → `42`. */
  id: string | undefined;
  /** `#/messages?app=shop` → `app=shop`. */
  params: URLSearchParams;
  /** Goes to `hash` (`#/messages?app=shop`), rendering it. */
  go(hash: string): void;
  /** Renders the current page again (after a write). */
  reload(): void;
}

/** A page renders from the API; it throws to show the error in place of the page. */
export type Page = (ctx: PageContext) => Promise<Child>;

/** `#/path?query` from the path and the non-empty values. */
export function hashOf(path: string, query: Record<string, string>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== '') q.set(k, v);
  const text = q.toString();
  return text === '' ? `#/${path}` : `#/${path}?${text}`;
}

// What a page gets from the shell, and what the shell needs back.
import type { LiveFeed } from './live.js';

export interface PageContext {
  /** Where the page draws. */
  main: HTMLElement;
  /** The path's parameters (the app name on /ui/apps/NAME). */
  params: string[];
  query: URLSearchParams;
  live: LiveFeed;
  /** Reports a failed refresh: a lost session shows the login form, anything else a notice. */
  fail: (err: unknown) => void;
}

export interface Page {
  /** Stops updates and frees charts before the next page draws. */
  destroy(): void;
}

export type PageFactory = (ctx: PageContext) => Page;

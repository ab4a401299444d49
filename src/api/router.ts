// A small path router: "/apps/:name/status" patterns, one handler per method. A path that matches
// with another method is a 405 with the Allow header; no match at all is a 404.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-error.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
}

/** A handler returns the JSON body to send (status 200), or undefined when it answered itself. */
export type Handler = (ctx: RequestContext) => unknown;

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

export interface RouteMatch {
  handler: Handler;
  params: Record<string, string>;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, segments: splitPath(pattern), handler });
    return this;
  }

  get(pattern: string, handler: Handler): this {
    return this.add('GET', pattern, handler);
  }

  post(pattern: string, handler: Handler): this {
    return this.add('POST', pattern, handler);
  }

  /** Finds the handler of `method` on `path`; throws 404 or 405 (with Allow) when there is none. */
  match(method: string, path: string): RouteMatch {
    const segments = splitPath(path);
    const allowed = new Set<string>();
    // A literal segment beats a parameter: /apps/register is not the app named "register".
    const candidates = this.routes
      .map((route) => ({ route, params: matchSegments(route.segments, segments) }))
      .filter((c): c is { route: Route; params: Record<string, string> } => c.params !== undefined)
      .sort((a, b) => Object.keys(a.params).length - Object.keys(b.params).length);
    for (const { route, params } of candidates) {
      const wanted = method === 'HEAD' ? 'GET' : method;
      if (route.method === wanted) return { handler: route.handler, params };
      allowed.add(route.method);
    }
    if (allowed.size === 0) throw new HttpError(404, 'NotFound', `no such endpoint: ${path}`);
    if (allowed.has('GET')) allowed.add('HEAD');
    const allow = [...allowed].sort().join(', ');
    throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed on ${path} (allowed: ${allow})`, { Allow: allow });
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegments(pattern: string[], path: string[]): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i]!;
    const got = path[i]!;
    if (want.startsWith(':')) {
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        return undefined; // malformed escape: no route, so a 404
      }
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}

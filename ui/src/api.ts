// The dashboard's client of the status endpoint. Same origin: the session cookie (when a token is
// set) goes along by itself; a 401 means the session is gone and the login form must show.

export class Unauthorized extends Error {
  constructor() {
    super('not logged in');
    this.name = 'Unauthorized';
  }
}

export async function getJson<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
  const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (res.status === 401) throw new Unauthorized();
  const body = (await res.json().catch(() => undefined)) as T & { message?: string };
  if (!res.ok) throw new Error(body?.message ?? `${res.status} ${res.statusText}`);
  return body;
}

export async function postJson<T>(path: string, body: unknown): Promise<{ status: number; body: T & { message?: string } }> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    credentials: 'same-origin',
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as T & { message?: string } };
}

export interface SessionState {
  authRequired: boolean;
  authenticated: boolean;
}

// The CLI's client of the controller's HTTP endpoint. Every failure becomes a CliError with one
// readable line; the most common one — no daemon — says so and names the fix.
import type { Command } from 'commander';
import { AUTH_TOKEN_FILE_VARIABLE, AUTH_TOKEN_VARIABLE, readSecretInput } from '../secrets/credential-input.js';
import { CliError } from './cli-error.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8000';
const REQUEST_TIMEOUT_MS = 10_000;

export interface ApiClientOptions {
  server: string;
  token?: string;
  timeoutMs?: number;
}

export class ApiClient {
  readonly server: string;

  constructor(private readonly options: ApiClientOptions) {
    this.server = options.server.replace(/\/+$/, '');
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.request<T>('GET', path, query);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, {}, body);
  }

  private async request<T>(method: string, path: string, query: Record<string, string | number | undefined>, body?: unknown): Promise<T> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw unreachable(this.server, err);
    }
    const text = await res.text();
    const json = parseJson(text);
    if (res.ok) return json as T;
    if (res.status === 401) {
      throw new CliError('Unauthorized', `the controller at ${this.server} requires a token: set ${AUTH_TOKEN_VARIABLE}, or pass --token-file`);
    }
    const message = isErrorBody(json) ? json.message : `${res.status} ${res.statusText}`;
    throw new CliError('ApiError', message);
  }
}

function unreachable(server: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string } }).cause;
  const code = cause?.code ?? (err as { name?: string }).name ?? 'error';
  const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'TimeoutError' ? 'no answer in time' : code;
  return new CliError('ControllerUnreachable', `cannot reach the controller at ${server} (${why}); is \`autoserve run\` running?`, { cause: err });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isErrorBody(value: unknown): value is { error: string; message: string } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** Adds --server and the token flags to a verb that talks to the controller. */
export function withServerOptions(command: Command): Command {
  return command
    .option('--server <url>', 'controller endpoint (or AUTOSERVE_SERVER)', process.env.AUTOSERVE_SERVER ?? DEFAULT_SERVER)
    .option('--token-file <file>', `file holding the bearer token of a controller that requires one (or ${AUTH_TOKEN_FILE_VARIABLE}, or the token in ${AUTH_TOKEN_VARIABLE})`)
    .option('--token <token>', `the token on the command line: visible in \`ps\`; prefer ${AUTH_TOKEN_VARIABLE} or --token-file`);
}

export function clientFrom(flags: { server?: string; token?: string; tokenFile?: string }): ApiClient {
  let token: string | undefined;
  try {
    token = readSecretInput({ file: flags.tokenFile, value: flags.token, variable: AUTH_TOKEN_VARIABLE, fileVariable: AUTH_TOKEN_FILE_VARIABLE }, process.env);
  } catch (err) {
    throw new CliError('BadArgument', `cannot read the token: ${err instanceof Error ? err.message : String(err)}`);
  }
  return new ApiClient({ server: flags.server ?? DEFAULT_SERVER, ...(token !== undefined ? { token } : {}) });
}

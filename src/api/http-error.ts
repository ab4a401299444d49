// Errors the API answers with: a status, a stable code and one readable message, sent as
// {"error": code, "message": message}. Anything else thrown by a handler is a 500.

export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** Stable, machine-readable: AppNotFound, BadQuery, MethodNotAllowed, ... */
    readonly code: string,
    message: string,
    /** Extra response headers (Allow on 405, WWW-Authenticate on 401). */
    readonly headers: Record<string, string> = {},
    /** Extra fields in the JSON body (e.g. the manifest errors of a rejected edit). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function appNotFound(name: string): HttpError {
  return new HttpError(404, 'AppNotFound', `no app named ${JSON.stringify(name)}`);
}

export function badQuery(parameter: string, message: string): HttpError {
  return new HttpError(400, 'BadQuery', `query parameter ${parameter}: ${message}`);
}

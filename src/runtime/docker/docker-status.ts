/** Whether a dockerode error carries this HTTP status (404 gone, 304 not modified, 409 conflict). */
export function isStatus(err: unknown, status: number): boolean {
  return (err as { statusCode?: number } | null)?.statusCode === status;
}

// A failure the CLI knows how to explain in one line. main.ts prints `autoserve: <message>` and
// exits 1 for any error; CliError marks the expected ones (no stack trace is ever useful for them).

export type CliErrorCode = 'ControllerUnreachable' | 'Unauthorized' | 'ApiError' | 'DockerUnreachable' | 'ManifestEdit' | 'BadArgument' | 'RolloutFailed' | 'Timeout';

export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

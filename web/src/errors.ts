/** Every error tidewire reports: `code` is stable (see ErrorCode), `message` says what to do. */
export class TidewireError extends Error {
  readonly code: string;
  /** Extra fields the server sent with the error, e.g. `current` for `version_conflict`, `retryAfterMs`. */
  readonly details: Record<string, unknown> | undefined;
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'TidewireError';
    this.code = code;
    this.details = details;
  }
}

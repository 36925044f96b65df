/** Every error tidewire reports: `code` is stable (see ErrorCode), `message` says what to do. */
export class TidewireError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'TidewireError';
    this.code = code;
  }
}

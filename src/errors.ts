/**
 * Base class of every error the toolkit throws on purpose. `code` is stable and machine-readable,
 * `message` is one short readable line, `cause` keeps the underlying error when there is one.
 */
export class OpgError extends Error {
  override readonly name: string = "OpgError";
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** A caller passed something malformed (bad hex, wrong length, unknown option). */
export class InvalidInputError extends OpgError {
  override readonly name = "InvalidInputError";
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super("INVALID_INPUT", message, options);
  }
}

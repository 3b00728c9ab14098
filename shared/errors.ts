/**
 * The one error base of the project. Every error we raise on purpose is an AppError with a
 * namespaced `code` (`scim.uniqueness`, `connector.rateLimited`, ...), a `retryable` flag and
 * the `cause` it wraps. Callers match errors by class or by `code`, never by message text.
 */
export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Configuration that cannot be used: raised at start-up, naming the offending field. */
export class ConfigError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('config.invalid', message, options);
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

/**
 * How the service words an error for a person: the message alone, never a
 * stack trace.
 *
 * @module
 */

/**
 * The message of `error`, or the thrown value as text when it is not an
 * Error. The OTLP packages' errors carry the HTTP status in a numeric
 * `code`, their message being only the status text ("Internal Server
 * Error"): the status is added.
 */
export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "number"
    ? `${error.message} (HTTP ${code})`
    : error.message;
}

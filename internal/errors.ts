/**
 * How the service words an error for a person: the message alone, never a
 * stack trace.
 *
 * @module
 */

/** The message of `error`, or the thrown value as text when it is not an Error. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The service's one voice for people: a `dice: ` line on standard error,
 * since standard output carries telemetry only.
 *
 * @module
 */

/** Prints `message` as one `dice: ` line on standard error. */
export function logToStderr(message: string): void {
  console.error(`dice: ${message}`);
}

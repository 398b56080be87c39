/**
 * The shutdown's deadline, `DICE_SHUTDOWN_TIMEOUT`: a stuck client or a
 * stdout nobody reads must not keep the process alive until the platform
 * kills it without a word.
 *
 * @module
 */

/**
 * Exits 1 after `millis`, saying so through `warn` with the bytes of
 * telemetry `sink` never wrote; returns the cancel. With `unref`, the timer
 * does not keep the event loop alive (a `deno serve` worker unloads once
 * nothing else does).
 */
export function exitAfter(
  millis: number,
  sink: { readonly unwritten: number },
  warn: (message: string) => void,
  { unref = false }: { unref?: boolean } = {},
): () => void {
  const timer = setTimeout(() => {
    const unwritten = sink.unwritten > 0
      ? `: ${sink.unwritten} bytes of telemetry never reached stdout`
      : "";
    warn(
      `shutdown did not finish within ${millis} ms (DICE_SHUTDOWN_TIMEOUT); ` +
        "exiting without waiting any longer, and the telemetry not yet " +
        `exported is lost${unwritten}`,
    );
    Deno.exit(1);
  }, millis);
  if (unref) Deno.unrefTimer(timer);
  return () => clearTimeout(timer);
}

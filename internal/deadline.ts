/**
 * The shutdown's deadline, `DICE_SHUTDOWN_TIMEOUT`: a stuck client or a
 * stdout nobody reads must not keep the process alive until the platform
 * kills it without a word.
 *
 * Shortly before the deadline ({@linkcode stdoutMarginMillis}), stdout
 * starts no new document, so that the exit cuts none in half; at the
 * deadline the totals are said (every document never written counted
 * lost in them), then the process exits 1.
 *
 * @module
 */

/**
 * How long before the deadline stdout starts no new document: 1 s, or a
 * tenth of the shutdown's time when that is less. The write under way is
 * sized to end within 100 ms at stdout's pace (`exporters/stdout/sink.ts`),
 * and a document is a few KB: the margin covers a reader of 16 KB/s.
 */
export function stdoutMarginMillis(shutdownTimeoutMillis: number): number {
  return Math.min(1000, Math.floor(shutdownTimeoutMillis / 10));
}

/** What {@linkcode exitAfter} stops and says at the deadline. */
export interface Held {
  /** Where the console exporters write. */
  sink: { readonly unwritten: number; stop(): void };
  /** What each exporter produced and confirmed. */
  ledger: { report(warn: (message: string) => void): void };
}

/**
 * Stops stdout's new documents shortly before `millis`, then at `millis`
 * says the totals and exits 1, saying why through `warn`; returns the
 * cancel. With `unref`, the timers do not keep the event loop alive (a
 * `deno serve` worker unloads once nothing else does).
 */
export function exitAfter(
  millis: number,
  held: Held,
  warn: (message: string) => void,
  { unref = false }: { unref?: boolean } = {},
): () => void {
  const cutoff = setTimeout(
    () => held.sink.stop(),
    millis - stdoutMarginMillis(millis),
  );
  const timer = setTimeout(() => {
    // First: the exports under way are aborted, and nothing is confirmed
    // after the totals are said.
    held.ledger.report(warn);
    const { unwritten } = held.sink;
    const stdout = unwritten > 0
      ? `; ${unwritten} bytes of telemetry never reached stdout`
      : "";
    warn(
      `shutdown did not finish within ${millis} ms (DICE_SHUTDOWN_TIMEOUT); ` +
        "exiting without waiting any longer, and the telemetry not yet " +
        `delivered is lost, as counted above${stdout}`,
    );
    Deno.exit(1);
  }, millis);
  if (unref) {
    Deno.unrefTimer(cutoff);
    Deno.unrefTimer(timer);
  }
  return () => {
    clearTimeout(cutoff);
    clearTimeout(timer);
  };
}

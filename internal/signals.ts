/**
 * Shutdown signals: the first SIGINT, SIGTERM or SIGHUP asks for a graceful
 * shutdown, a later one for an immediate exit. SIGHUP is what a closed
 * terminal or ssh connection sends: it flushes like the others, rather
 * than ending the process with the telemetry unwritten.
 *
 * One Ctrl+C under `deno task` arrives twice: the terminal sends SIGINT to
 * the whole process group, and `deno task` forwards the one it received a
 * moment later. Both must count as one, or a single Ctrl+C would skip the
 * final flush.
 *
 * @module
 */

import { logToStderr } from "./stderr.ts";

/** How long after the first signal a repeat still counts as the same event. */
export const DUPLICATE_SIGNAL_WINDOW_MS = 500;

/** The signals that stop the service. */
export const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** A signal that stops the service. */
export type ShutdownSignal = typeof SHUTDOWN_SIGNALS[number];

/** What one more signal means, given the ones before it. */
export type SignalMeaning = "shutdown" | "duplicate" | "exit";

/**
 * Returns a function that classifies each signal as it arrives: the first
 * is `shutdown`, a repeat within `windowMs` of it is a `duplicate`, and any
 * later one is `exit`.
 */
export function newSignalClassifier(
  windowMs: number = DUPLICATE_SIGNAL_WINDOW_MS,
  now: () => number = () => performance.now(),
): () => SignalMeaning {
  let firstAt: number | undefined;
  return function classify() {
    const at = now();
    if (firstAt === undefined) {
      firstAt = at;
      return "shutdown";
    }
    return at - firstAt < windowMs ? "duplicate" : "exit";
  };
}

const SIGNAL_NUMBERS: Record<ShutdownSignal, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGTERM: 15,
};

/**
 * Resolves on the first SIGINT, SIGTERM or SIGHUP. A later one, outside the
 * duplicate window, calls `exitNow` with the shell's exit code for that
 * signal (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
 */
export function shutdownSignal(
  exitNow: (code: number, signal: ShutdownSignal) => void = exitAtOnce,
): Promise<ShutdownSignal> {
  const classify = newSignalClassifier();
  return new Promise((resolve) => {
    function listen(signal: ShutdownSignal): void {
      Deno.addSignalListener(signal, function onSignal() {
        const meaning = classify();
        if (meaning === "shutdown") resolve(signal);
        if (meaning === "exit") exitNow(128 + SIGNAL_NUMBERS[signal], signal);
      });
    }
    for (const signal of SHUTDOWN_SIGNALS) {
      listen(signal);
    }
  });
}

// A second signal skips whatever the shutdown still waits for.
function exitAtOnce(code: number, signal: ShutdownSignal): void {
  logToStderr(`${signal} again: exiting without waiting for the shutdown`);
  Deno.exit(code);
}

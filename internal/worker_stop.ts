/**
 * A graceful stop for a worker of `deno serve --parallel`: on SIGINT or
 * SIGTERM the runtime stops accepting, lets the requests in flight finish,
 * then fires `beforeunload` in each worker whose event loop has gone idle;
 * the worker holds that event open while it flushes its telemetry, and the
 * process exits 0 once every worker has unloaded.
 *
 * Measured on Deno 2.9.6, and why each step is here:
 * - `Deno.exit` in one worker ends the whole process, cutting the other
 *   workers' flush: it is called only when the deadline passes or on a
 *   later signal, as under `deno task start`.
 * - With a signal listener of our own, a repeated signal no longer ends
 *   the process, so the listener does it (`internal/signals.ts`, which
 *   also tells one Ctrl+C delivered twice by `deno task` from a second).
 * - SIGHUP would end the process at once, with no `beforeunload`: the
 *   listener raises SIGTERM instead, the runtime's graceful stop.
 * - The deadline starts with the signal, since a request that never ends
 *   would keep the worker from unloading; its timer must not keep the
 *   event loop alive itself, or `beforeunload` would never fire.
 *
 * @module
 */

import { exitAfter, type Held } from "./deadline.ts";
import { messageOf } from "./errors.ts";
import { shutdownSignal } from "./signals.ts";

/** What {@linkcode stopGracefully} flushes, within how long, and who speaks. */
export interface GracefulStop {
  /** Flushes and shuts down the telemetry: what `setupOTelSDK` returned. */
  shutdown: () => Promise<void>;
  /** Stopped shortly before the deadline, and asked for the totals at it. */
  held: Held;
  /** `DICE_SHUTDOWN_TIMEOUT`, counted from the first signal. */
  timeoutMillis: number;
  /** This worker's voice on stderr. */
  warn: (message: string) => void;
  /** Whether this worker says what all do (the signal), so that it is said once. */
  speaks: boolean;
}

/**
 * Flushes this worker's telemetry in `beforeunload`, ends the process on a
 * later signal, and exits 1 when `timeoutMillis` pass after the first.
 */
export function stopGracefully(stop: GracefulStop): void {
  const { warn, speaks } = stop;
  let cancelDeadline: (() => void) | undefined;
  function startDeadline(): void {
    cancelDeadline ??= exitAfter(stop.timeoutMillis, stop.held, warn, {
      unref: true,
    });
  }
  shutdownSignal((code, signal) => {
    // The others a moment later, so that the line is said once; but said,
    // should the speaker's thread be stuck in a write to stdout.
    setTimeout(() => {
      warn(`${signal} again: exiting without waiting for the shutdown`);
      Deno.exit(code);
    }, speaks ? 0 : 100);
  }).then((signal) => {
    if (speaks) {
      warn(`${signal}: shutting down (send it again to exit at once)`);
    }
    if (signal === "SIGHUP") Deno.kill(Deno.pid, "SIGTERM");
    startDeadline();
  });

  let flushing: Promise<void> | undefined;
  let flushed = false;
  addEventListener("beforeunload", (event) => {
    if (flushed) return;
    event.preventDefault();
    if (flushing) return;
    startDeadline();
    // Keeps the event loop busy while the flush waits on the SDK's timers,
    // which do not: otherwise beforeunload would fire again at once.
    const busy = setInterval(() => {}, 1000);
    flushing = stop.shutdown()
      .catch((error) => warn(messageOf(error)))
      .finally(() => {
        clearInterval(busy);
        cancelDeadline?.();
        flushed = true;
      });
  });
}

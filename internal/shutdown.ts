/**
 * The shutdown bookkeeping of `setupOTelSDK`: Go's `shutdownFuncs` slice and
 * its `errors.Join`, with one addition. The providers' shutdowns are added:
 * they run together, so that against a collector that never answers they
 * cost one export timeout, not one each. What must come after them, such as
 * unregistering the globals and saying what was lost, is deferred: it runs
 * once they are done, last in first out, as Go's `defer` does.
 *
 * @module
 */

import { messageOf } from "./errors.ts";
import type { SignalConfig } from "./otlp_config.ts";
import { TIMED_OUT, within } from "./timeout.ts";

/** Cleanup steps, each run once, every error reported together. */
export interface ShutdownFuncs {
  /** Adds a step that runs concurrently with the other added steps. */
  add(step: () => unknown): void;
  /** Adds a step that runs after every added step, last in first out. */
  defer(step: () => unknown): void;
  /**
   * Runs the added steps, then the deferred ones, each once; rejects with an
   * AggregateError of every failure. Later calls return the first result.
   */
  shutdown(): Promise<void>;
}

/** Makes an empty {@linkcode ShutdownFuncs}. */
export function newShutdownFuncs(): ShutdownFuncs {
  const added: Array<() => unknown> = [];
  const deferred: Array<() => unknown> = [];
  let result: Promise<void> | undefined;

  async function runAll(): Promise<void> {
    const errors: unknown[] = [];
    const results = await Promise.allSettled(
      added.splice(0).map(async (step) => await step()),
    );
    for (const result of results) {
      if (result.status === "rejected") errors.push(result.reason);
    }
    for (const step of deferred.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) {
      throw new AggregateError(
        errors,
        `OpenTelemetry shutdown failed: ${errors.map(messageOf).join("; ")}`,
      );
    }
  }

  return {
    add: (step) => void added.push(step),
    defer: (step) => void deferred.push(step),
    shutdown: () => result ??= runAll(),
  };
}

/**
 * A batch processor waits for the export in flight, then exports what is
 * left: against a collector that never answers, two OTLP timeouts or more.
 * One, and this margin, is what a shutdown gives each provider; what is not
 * out by then is lost anyway.
 */
export const SHUTDOWN_MARGIN_MILLIS = 500;

/**
 * How long a shutdown waits for open connections before it flushes the
 * telemetry anyway: a quarter of `DICE_SHUTDOWN_TIMEOUT`, the rest being
 * the telemetry's.
 */
export function drainMillis(shutdownTimeoutMillis: number): number {
  return Math.floor(shutdownTimeoutMillis / 4);
}

/**
 * `step`, given up after `millis` with an error that names `what`: an
 * exporter that waits on a collector that never answers would otherwise
 * hold the shutdown for an export timeout per batch it holds.
 */
export function giveUpAfter(
  step: () => Promise<void>,
  millis: number | undefined,
  what: string,
): () => Promise<void> {
  if (millis === undefined) return step;
  return async function stepWithin() {
    if (await within(step(), millis) !== TIMED_OUT) return;
    throw new Error(
      `${what} did not finish within ${millis} ms; what it still held is lost`,
    );
  };
}

/**
 * The shutdown step of a provider that exports `signal`: bounded by one
 * OTLP timeout and {@linkcode SHUTDOWN_MARGIN_MILLIS} where the signal goes
 * over OTLP; stdout needs no bound of its own (the process deadline is it).
 */
export function shutdownWithin(
  provider: { shutdown(): Promise<void> },
  signal: Pick<SignalConfig, "exporters" | "timeoutMillis">,
  what: string,
): () => Promise<void> {
  const budget = signal.exporters.includes("otlp")
    ? signal.timeoutMillis + SHUTDOWN_MARGIN_MILLIS
    : undefined;
  return giveUpAfter(() => provider.shutdown(), budget, what);
}

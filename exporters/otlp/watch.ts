/**
 * What dice says about a collector: a failed export attempt at once, with
 * the endpoint and the cause, before any retry; the same trouble again at
 * most once per window while it lasts; that exports get through again; and,
 * when a shutdown has to wait on collectors, for what and for how long.
 *
 * @module
 */

import { withoutCredentials } from "../../internal/env.ts";
import {
  DEFAULT_WINDOW_MILLIS,
  RateLimiter,
} from "../../internal/rate_limit.ts";
import type { OtlpExportError } from "./transport.ts";

/** How long the same trouble with a collector waits before it is said again, in ms. */
export const REPEAT_WINDOW_MILLIS = DEFAULT_WINDOW_MILLIS;

/** Options of {@linkcode CollectorWatch}. */
export interface CollectorWatchOptions {
  /** What goes there: `traces`, `metrics` or `logs`. */
  signal: string;
  /** The signal's OTLP URL. */
  url: string;
  /** Milliseconds one export may take. */
  timeoutMillis: number;
  /** Says one line. */
  warn: (message: string) => void;
  /**
   * The clock, in milliseconds.
   *
   * @default {performance.now}
   */
  now?: () => number;
}

/** Says what one OTLP exporter meets at its collector. */
export class CollectorWatch {
  readonly #options: CollectorWatchOptions;
  readonly #url: string;
  readonly #limiter: RateLimiter;
  /** The cause of the last failed attempt, until an export gets through. */
  #trouble: string | undefined;
  /** Exports under way, as the transport counts them. */
  busy: () => number = () => 0;

  /** A watch that says through `options.warn`. */
  constructor(options: CollectorWatchOptions) {
    this.#options = options;
    this.#url = withoutCredentials(options.url);
    this.#limiter = new RateLimiter({
      windowMillis: REPEAT_WINDOW_MILLIS,
      now: options.now,
    });
  }

  /** The signal watched. */
  get signal(): string {
    return this.#options.signal;
  }

  /** Milliseconds one export may take. */
  get timeoutMillis(): number {
    return this.#options.timeoutMillis;
  }

  /** Why the last attempt failed, while no export has got through since. */
  get trouble(): string | undefined {
    return this.#trouble;
  }

  /**
   * Says a failed attempt: the first of a run at once, later ones at most
   * once per window for each cause, with how many were not said.
   */
  attemptFailed(error: OtlpExportError): void {
    const first = this.#trouble === undefined;
    this.#trouble = error.reason;
    const key = `failed\n${error.name}`;
    if (!first && !this.#limiter.pass(key)) return;
    if (first) this.#limiter.pass(key);
    const held = this.#limiter.takeHeld(key);
    this.#options.warn(
      `${first ? "cannot" : "still cannot"} export ${this.signal} to ` +
        `${this.#url}: ${error.reason}` +
        (held > 0
          ? ` (${held} more failed attempts since the last line)`
          : "") +
        (first
          ? `; each export is retried for at most ${this.timeoutMillis} ` +
            "ms, and what is lost is counted"
          : ""),
    );
  }

  /** Says, once after a run of failures, that exports get through again. */
  delivered(): void {
    if (this.#trouble === undefined) return;
    this.#trouble = undefined;
    this.#options.warn(`exports of ${this.signal} reach ${this.#url} again`);
  }

  /** Says what a partial success rejected, at most once per window. */
  rejected(count: number, of: number, unit: string, message: string): void {
    const key = "rejected";
    if (!this.#limiter.pass(key)) return;
    const held = this.#limiter.takeHeld(key);
    this.#options.warn(
      `${this.#url} rejected ${count} of ${of} ${unit}` +
        (message ? `: ${JSON.stringify(message.slice(0, 200))}` : "") +
        (held > 0 ? ` (and ${held} more batches since the last line)` : ""),
    );
  }
}

const SECOND_LOOK_MILLIS = 1000;

/**
 * Says, when the shutdown begins, what it may wait on: every watched
 * collector in trouble or with exports under way, and how long at most
 * (`budgetMillis` for each). Looks again after a second, in case a collector
 * that seemed well has not answered; says it once either way. Returns the
 * cancel of that second look.
 */
export function sayWaiting(
  watches: readonly CollectorWatch[],
  budgetMillis: (watch: CollectorWatch) => number,
  warn: (message: string) => void,
): () => void {
  function waitingOn(): CollectorWatch[] {
    return watches.filter((w) => w.trouble !== undefined || w.busy() > 0);
  }
  function say(on: CollectorWatch[], elapsed: number): void {
    const longest = Math.max(...on.map(budgetMillis)) - elapsed;
    const what = on.map((w) =>
      `${w.signal}: ${w.trouble ?? `${w.busy()} exports under way`}`
    );
    warn(
      `shutdown waits at most ${longest} ms for the OTLP collector ` +
        `(${what.join("; ")}); Ctrl+C again skips the wait, and what it ` +
        "still holds is counted lost",
    );
  }
  const now = waitingOn();
  if (now.length > 0) {
    say(now, 0);
    return () => {};
  }
  if (watches.length === 0) return () => {};
  const timer = setTimeout(() => {
    const later = waitingOn();
    if (later.length > 0) say(later, SECOND_LOOK_MILLIS);
  }, SECOND_LOOK_MILLIS);
  Deno.unrefTimer(timer);
  return () => clearTimeout(timer);
}

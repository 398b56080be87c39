/**
 * Where the SDK's own diagnostics go: stderr, at a bounded rate.
 *
 * With the collector down, every batch fails and the SDK says so every time;
 * with a bad `OTEL_EXPORTER_OTLP_TIMEOUT`, each of the three exporters says
 * the same thing. Printing all of it would bury everything else, so each
 * distinct message is printed at most once per window, and at most a fixed
 * number of lines per window in all; what is held back is counted and the
 * count printed with the next line or at shutdown.
 *
 * @module
 */

import { diag, type DiagLogger, DiagLogLevel } from "@opentelemetry/api";
import {
  loggingErrorHandler,
  setGlobalErrorHandler,
} from "@opentelemetry/core";
import { messageOf } from "./errors.ts";
import { RateLimiter } from "./rate_limit.ts";
import { logToStderr } from "./stderr.ts";

/** Options of {@linkcode RateLimitedDiagLogger}; every field has a default. */
export interface RateLimitOptions {
  /** Writes one line; `logToStderr` (a `dice: ` line on stderr) by default. */
  write?: (line: string) => void;
  /** How long a message is held back after it was printed; 30 s by default. */
  windowMillis?: number;
  /** Lines printed per window at most, whatever the messages; 20 by default. */
  maxLinesPerWindow?: number;
  /** The clock, in milliseconds; replaceable for tests. */
  now?: () => number;
}

/** A {@linkcode DiagLogger} that writes one line per message, rate-limited. */
export class RateLimitedDiagLogger implements DiagLogger {
  readonly #write: (line: string) => void;
  readonly #limiter: RateLimiter;

  /** A logger that writes through `options.write`, at most as often as set. */
  constructor(options: RateLimitOptions = {}) {
    this.#write = options.write ?? logToStderr;
    this.#limiter = new RateLimiter({
      windowMillis: options.windowMillis ?? 30_000,
      maxPerWindow: options.maxLinesPerWindow ?? 20,
      now: options.now,
    });
  }

  /** Reports an error of the SDK, such as a failed export. */
  error(message: string, ...args: unknown[]): void {
    this.#log("error", message, args);
  }

  /** Reports a problem the SDK worked around, such as a bad setting. */
  warn(message: string, ...args: unknown[]): void {
    this.#log("warning", message, args);
  }

  /** Reports a notable event. */
  info(message: string, ...args: unknown[]): void {
    this.#log("info", message, args);
  }

  /** Reports a detail for debugging. */
  debug(message: string, ...args: unknown[]): void {
    this.#log("debug", message, args);
  }

  /** Reports a fine detail for debugging. */
  verbose(message: string, ...args: unknown[]): void {
    this.#log("verbose", message, args);
  }

  /** Prints how often each message was held back since it was last printed. */
  flush(): void {
    for (const text of this.#limiter.heldKeys()) {
      this.#write(
        `${text} (repeated ${times(this.#limiter.takeHeld(text))} since)`,
      );
    }
    const others = this.#limiter.takeHeldOverall();
    if (others > 0) {
      this.#write(`otel: ${others} more diagnostics were not printed`);
    }
  }

  #log(level: string, message: string, args: unknown[]): void {
    const text = `otel ${level}: ${
      oneLine([message, ...args.map(describe)].join(" "))
    }`;
    if (!this.#limiter.pass(text)) return;
    const repeated = this.#limiter.takeHeld(text);
    const others = this.#limiter.takeHeldOverall();
    this.#write(
      text + (repeated ? ` (repeated ${times(repeated)} since)` : "") +
        (others ? ` (${others} other diagnostics were not printed)` : ""),
    );
  }
}

function times(count: number): string {
  return count === 1 ? "once" : `${count} times`;
}

function describe(arg: unknown): string {
  if (arg instanceof Error) return `${arg.name}: ${messageOf(arg)}`;
  if (typeof arg === "string") return arg;
  return Deno.inspect(arg, {
    compact: true,
    breakLength: Infinity,
    colors: false,
  });
}

// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

// One message, one line, whatever the error text holds; never a stack
// trace (the API puts one in its message about a duplicate registration).
function oneLine(text: string): string {
  return text.replace(/\n\s+at [^\n]*/g, "")
    .replace(/\s*[\r\n]+\s*/g, " ").replace(CONTROL, "?");
}

/**
 * Routes the SDK's diagnostics, and the errors it hands its global error
 * handler, to a {@linkcode RateLimitedDiagLogger} at WARN. Returns the undo,
 * which prints what was held back and restores the SDK's defaults.
 */
export function installDiagLogger(options: RateLimitOptions = {}): () => void {
  const logger = new RateLimitedDiagLogger(options);
  const registered = diag.setLogger(logger, {
    logLevel: DiagLogLevel.WARN,
    suppressOverrideMessage: true,
  });
  // The SDK's own handler prints an error as JSON with its stack; the
  // message says what went wrong ("connect ECONNREFUSED 127.0.0.1:4318").
  setGlobalErrorHandler((error) => diag.error(messageOf(error)));
  return function uninstallDiagLogger() {
    logger.flush();
    setGlobalErrorHandler(loggingErrorHandler());
    if (registered) diag.disable();
  };
}

/**
 * How dice sends one OTLP export: `fetch`, with one deadline for the whole
 * export, attempts and answer included.
 *
 * What differs from the OTLP packages' own transport (node:http, wrapped in
 * their retrying transport), and why:
 *
 * - **The timeout bounds the export from start to end.** Theirs is an
 *   inactivity timer: a collector that drips its answer a byte a second
 *   held an export for ever. Here one `AbortController` per export aborts
 *   the request, the answer and any wait between attempts at the deadline,
 *   so the connection is closed, no socket leaks, and no batch is accepted
 *   after dice counted it lost.
 * - **Every attempt is dice's**, so that the first failure is said at once,
 *   with its cause (`connection refused`, `timed out`, the HTTP status),
 *   rather than after the retries.
 * - **The exports in flight are bounded** ({@linkcode MAX_EXPORTS_IN_FLIGHT});
 *   more wait their turn, within their own deadline.
 *
 * What stays as the packages do it: retries of 429, 502, 503 and 504 and of
 * network errors, with an exponential backoff from 1 s (×1.5, at most 5 s,
 * ±20 % jitter), a `Retry-After` obeyed, never past the deadline.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import { messageOf } from "../../internal/errors.ts";

/**
 * Exports one OTLP exporter has in flight at most; more wait their turn.
 * A batch processor sends one at a time; at shutdown it sends all it holds
 * at once, and this bound keeps that to four requests per signal.
 */
export const MAX_EXPORTS_IN_FLIGHT = 4;

const RETRYABLE_STATUSES = [429, 502, 503, 504];
const FIRST_BACKOFF_MILLIS = 1000;
const MAX_BACKOFF_MILLIS = 5000;

const PACKAGE_VERSION = denoJson.imports["@opentelemetry/otlp-exporter-base"]
  .split("@").pop();

/** Why an export failed: the cause in a few words, and whether it was aborted. */
export class OtlpExportError extends Error {
  /** `cause` in words, such as `connection refused` or `HTTP 503`. */
  constructor(
    readonly reason: string,
    readonly aborted = false,
  ) {
    super(reason);
    this.name = aborted ? "timeout" : reason.split(" (")[0];
  }
}

/** Where and how a {@linkcode DeadlineTransport} sends. */
export interface TransportOptions {
  /** The signal's full OTLP URL. */
  url: string;
  /** `application/x-protobuf` or `application/json`. */
  contentType: string;
  /** The configured headers, in lower case. */
  headers: Readonly<Record<string, string>>;
  /** Whether to gzip each request body. */
  gzip: boolean;
  /** Milliseconds one export may take, from start to end. */
  timeoutMillis: number;
  /** The client with the configured certificates, if any. */
  client?: Deno.HttpClient;
  /** Told of every failed attempt, at once. */
  onAttemptFailed(error: OtlpExportError, attempt: number): void;
}

/** Sends OTLP request bodies, each export bounded from start to end. */
export class DeadlineTransport {
  readonly #options: TransportOptions;
  readonly #headers: Record<string, string>;
  readonly #running = new Set<AbortController>();
  readonly #waiting: Array<{ wake(): void; signal: AbortSignal }> = [];
  #inFlight = 0;
  #closed = false;

  /** A transport to `options.url`. */
  constructor(options: TransportOptions) {
    this.#options = options;
    this.#headers = {
      "user-agent": `OTel-OTLP-Exporter-JavaScript/${PACKAGE_VERSION}`,
      ...options.headers,
      "content-type": options.contentType,
      ...(options.gzip ? { "content-encoding": "gzip" } : {}),
    };
  }

  /** What it sends: `application/x-protobuf` or `application/json`. */
  get contentType(): string {
    return this.#options.contentType;
  }

  /** Exports under way, sending or waiting their turn. */
  get busy(): number {
    return this.#running.size;
  }

  /**
   * Sends `body` until a 2xx answer has been read in full, and returns that
   * answer; rejects with an {@linkcode OtlpExportError} at the deadline, on
   * an answer that is not retried, or once {@linkcode abortAll} was called.
   */
  async send(body: Uint8Array): Promise<Uint8Array> {
    const { timeoutMillis } = this.#options;
    const deadline = performance.now() + timeoutMillis;
    const controller = new AbortController();
    if (this.#closed) controller.abort(new OtlpExportError("shut down", true));
    const timer = setTimeout(
      () =>
        controller.abort(
          new OtlpExportError(`timed out after ${timeoutMillis} ms`, true),
        ),
      timeoutMillis,
    );
    this.#running.add(controller);
    try {
      await this.#turn(controller.signal);
      try {
        const payload = this.#options.gzip ? await gzip(body) : body;
        return await this.#attempts(payload, controller.signal, deadline);
      } finally {
        this.#inFlight--;
        this.#wakeNext();
      }
    } finally {
      clearTimeout(timer);
      this.#running.delete(controller);
    }
  }

  /** Aborts every export under way, and every later one. */
  abortAll(): void {
    this.#closed = true;
    for (const controller of this.#running) {
      controller.abort(new OtlpExportError("given up at shutdown", true));
    }
  }

  // Resolves once fewer than MAX_EXPORTS_IN_FLIGHT are in flight, counting
  // this one in; rejects when aborted first.
  async #turn(signal: AbortSignal): Promise<void> {
    while (this.#inFlight >= MAX_EXPORTS_IN_FLIGHT) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiting.push({ wake: resolve, signal });
      await abortable(promise, signal);
    }
    signal.throwIfAborted();
    this.#inFlight++;
  }

  // Wakes the first export still waiting for its turn.
  #wakeNext(): void {
    let next = this.#waiting.shift();
    while (next?.signal.aborted) next = this.#waiting.shift();
    next?.wake();
  }

  async #attempts(
    body: Uint8Array,
    signal: AbortSignal,
    deadline: number,
  ): Promise<Uint8Array> {
    for (let attempt = 1;; attempt++) {
      const outcome = await this.#attempt(body, signal);
      if (outcome instanceof Uint8Array) return outcome;
      const [error, retryAfterMillis] = outcome;
      this.#options.onAttemptFailed(error, attempt);
      if (retryAfterMillis === undefined || error.aborted) throw error;
      const backoff = FIRST_BACKOFF_MILLIS * 1.5 ** (attempt - 1);
      const delay = retryAfterMillis ??
        Math.min(backoff, MAX_BACKOFF_MILLIS) * (0.8 + Math.random() * 0.4);
      // Never past the deadline: the export fails with this cause now.
      if (performance.now() + delay >= deadline) throw error;
      await abortable(sleep(delay, signal), signal).catch(() => {
        throw signal.reason ?? error;
      });
    }
  }

  // One request: the whole answer when it is a 2xx, else why not and, when
  // worth retrying, after how long (null: the backoff's).
  async #attempt(
    body: Uint8Array,
    signal: AbortSignal,
  ): Promise<Uint8Array | [OtlpExportError, number | null | undefined]> {
    try {
      const response = await fetch(this.#options.url, {
        method: "POST",
        headers: this.#headers,
        body: body as Uint8Array<ArrayBuffer>,
        signal,
        client: this.#options.client,
      });
      // The deadline covers the answer's body too: a dripping collector
      // is aborted, not waited for.
      const answer = new Uint8Array(await response.arrayBuffer());
      if (response.ok) return answer;
      const error = new OtlpExportError(
        `HTTP ${response.status}${
          response.statusText ? ` ${response.statusText}` : ""
        }`,
      );
      if (!RETRYABLE_STATUSES.includes(response.status)) {
        return [error, undefined];
      }
      return [error, retryAfter(response.headers.get("retry-after"))];
    } catch (error) {
      if (signal.aborted) return [signal.reason, undefined];
      return [new OtlpExportError(networkCause(error)), null];
    }
  }
}

/** A `Retry-After` in milliseconds (seconds or an HTTP date); null when absent or unreadable. */
export function retryAfter(value: string | null): number | null {
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/**
 * What a failed `fetch` says, in a few words: Deno reports every network
 * error as `TypeError: fetch failed`, with the cause's message in English.
 */
export function networkCause(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined
    ? messageOf(error.cause)
    : messageOf(error);
  // Deno's message repeats the URL, then says which layer failed.
  const detail = cause.replace(/^error sending request.*?\): /i, "")
    .replace(/^client error \(\w+\): /i, "");
  const known: Array<[RegExp, string]> = [
    [/connection refused/i, "connection refused"],
    [/connection reset/i, "connection reset"],
    [
      /error reading a body|incomplete message|connection closed/i,
      "connection closed mid-response",
    ],
    [/dns error|failed to lookup|name or service not known/i, "host not found"],
  ];
  const found = known.find(([pattern]) => pattern.test(cause));
  if (found) return found[1];
  if (/corrupt message|InvalidContentType|tls|certificate/i.test(cause)) {
    return `TLS failed (${detail})`;
  }
  return detail;
}

function sleep(millis: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, millis);
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  });
}

// `promise`, or a rejection with the signal's reason once it aborts.
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}

async function gzip(body: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([body as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

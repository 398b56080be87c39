/**
 * `Deno.serve` that outlives running out of file descriptors.
 *
 * Measured on Deno 2.9.6 (Linux, `ulimit -n 256`, 400 idle connections):
 * `Deno.serve`'s accept loop ends at its first accept error, such as
 * `EMFILE` ("Too many open files (os error 24)"). Its listener is closed with
 * it, so every later connection is refused, and `server.finished` rejects
 * with `Deno.errors.Http`; nobody awaits that promise, so the process exits 1
 * without flushing telemetry. The connections it had accepted stay open and
 * are still served, and `shutdown()` still works: it closes at once every
 * connection that is idle or still sending its headers, and waits for the
 * requests in flight. Once it has, the same port can be bound again.
 *
 * Deno 2.9 has no idle, keep-alive or header-read timeout for `Deno.serve`
 * (denoland/deno#3515), and no public way to see or close one connection.
 * So {@linkcode serveResilient} bounds idle and slow connections by number
 * only: when accepting fails, it shuts the failed server down, which closes
 * every connection waiting for a request and frees their descriptors, and
 * listens again on the same port with backoff. What happened goes to `warn`,
 * at most one line per window.
 *
 * @module
 */

import { messageOf } from "./errors.ts";
import { DEFAULT_WINDOW_MILLIS, RateLimiter } from "./rate_limit.ts";

/** Where {@linkcode serveResilient} listens. */
export interface ServeResilientOptions {
  /** The port; 0 picks a free one, which is then kept for good. */
  port: number;
  /** The address, such as "0.0.0.0", "::" or "127.0.0.1". */
  hostname: string;
}

/** How {@linkcode serveResilient} reports what it does. */
export interface ServeResilientHooks {
  /** Writes one line for people, such as `logToStderr`. */
  warn: (message: string) => void;
  /** At most one line per this many milliseconds; 10 s by default. */
  windowMillis?: number;
}

/** A server that survives accept failures, made by {@linkcode serveResilient}. */
export interface ResilientServer {
  /** The address it listens on, the same after every new listener. */
  readonly addr: Deno.NetAddr;
  /** Stops listening, lets requests in flight finish; never rejects. */
  shutdown(): Promise<void>;
  /** Settles once {@linkcode ResilientServer.shutdown} has finished. */
  readonly finished: Promise<void>;
}

/** A `warn` that holds lines back; made by {@linkcode newRateLimitedWarn}. */
export interface RateLimitedWarn {
  /** Writes `message` now, or holds it back when a line was written lately. */
  warn(message: string): void;
  /** Writes the latest line held back, with how many were, if any. */
  flush(): void;
}

/** Options of {@linkcode newRateLimitedWarn}; tests replace the clock. */
export interface RateLimitedWarnOptions {
  /** At most one line per this many milliseconds. */
  windowMillis: number;
  /** The clock, in milliseconds; `performance.now` by default. */
  now?: () => number;
  /** Runs `callback` after `millis`, returns the cancel; timers by default. */
  schedule?: (callback: () => void, millis: number) => () => void;
}

interface Server {
  readonly hostname: string;
  port: number;
  readonly handler: Deno.ServeHandler<Deno.NetAddr>;
  readonly report: RateLimitedWarn;
  // Failed servers, shutting down while their requests in flight finish.
  readonly draining: Set<Promise<void>>;
  current: Deno.HttpServer<Deno.NetAddr> | undefined;
  cancelRetry: () => void;
  stopping: boolean;
}

// Listening again waits 10 ms, then twice as long each time, up to 1 s:
// soon enough that a flood's end is noticed, and no busy loop meanwhile.
const FIRST_RETRY_MILLIS = 10;
const MAX_RETRY_MILLIS = 1000;

/**
 * Serves `handler` like `Deno.serve({ port, hostname }, handler)`, and listens
 * again on the same port whenever accepting connections fails. Throws what
 * `Deno.serve` throws when it cannot listen at first, such as
 * `Deno.errors.AddrInUse`.
 */
export function serveResilient(
  options: ServeResilientOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  hooks: ServeResilientHooks,
): ResilientServer {
  const report = newRateLimitedWarn(hooks.warn, {
    windowMillis: hooks.windowMillis ?? DEFAULT_WINDOW_MILLIS,
  });
  const server: Server = {
    hostname: options.hostname,
    port: options.port,
    handler,
    report,
    draining: new Set(),
    current: undefined,
    cancelRetry: () => {},
    stopping: false,
  };
  const { addr } = listen(server);
  const stopped = Promise.withResolvers<void>();
  let shutdown: Promise<void> | undefined;
  return {
    addr,
    finished: stopped.promise,
    shutdown() {
      shutdown ??= stop(server).then(stopped.resolve);
      return shutdown;
    },
  };
}

function listen(server: Server): Deno.HttpServer<Deno.NetAddr> {
  const httpServer = Deno.serve(
    { port: server.port, hostname: server.hostname, onListen() {} },
    server.handler,
  );
  // Port 0 is resolved once, so that every later listener is found where
  // the first one was announced.
  server.port = httpServer.addr.port;
  server.current = httpServer;
  httpServer.finished.catch((error) => acceptFailed(server, httpServer, error));
  return httpServer;
}

function acceptFailed(
  server: Server,
  failed: Deno.HttpServer<Deno.NetAddr>,
  error: unknown,
): void {
  if (server.current === failed) server.current = undefined;
  if (server.stopping) return;
  // Recover first: a warn that throws must not leave the port unserved.
  drain(server, failed);
  retryListen(server, 1, performance.now());
  server.report.warn(
    `cannot accept connections on port ${server.port} ` +
      `(${messageOf(error)}); closing the connections that wait for a ` +
      "request and listening again",
  );
}

// The failed server holds every connection it accepted, idle or not; its
// shutdown() closes those waiting for a request at once, which frees the
// descriptors that listening again needs, and lets requests in flight end.
function drain(server: Server, failed: Deno.HttpServer<Deno.NetAddr>): void {
  const draining: Promise<void> = failed.shutdown()
    .catch((error) => server.report.warn(messageOf(error)))
    .finally(() => server.draining.delete(draining));
  server.draining.add(draining);
}

function retryListen(server: Server, attempt: number, since: number): void {
  const delay = Math.min(
    MAX_RETRY_MILLIS,
    FIRST_RETRY_MILLIS * 2 ** (attempt - 1),
  );
  const timer = setTimeout(() => {
    if (server.stopping) return;
    try {
      listen(server);
    } catch (error) {
      retryListen(server, attempt + 1, since);
      server.report.warn(
        `cannot listen on port ${server.port} again (${messageOf(error)}); ` +
          `attempt ${attempt}, retrying`,
      );
      return;
    }
    server.report.warn(
      `listening on port ${server.port} again after ${attempt} ` +
        `${attempt === 1 ? "attempt" : "attempts"} in ` +
        `${Math.round(performance.now() - since)} ms`,
    );
  }, delay);
  server.cancelRetry = () => clearTimeout(timer);
}

async function stop(server: Server): Promise<void> {
  server.stopping = true;
  server.cancelRetry();
  const current = server.current?.shutdown()
    .catch((error) => server.report.warn(messageOf(error)));
  await Promise.all([current, ...server.draining]);
  server.report.flush();
}

/**
 * Wraps `write` so that it writes at most one line per window: the first
 * line at once, and, at the end of a window in which lines were held back,
 * the latest one with how many there were.
 */
export function newRateLimitedWarn(
  write: (message: string) => void,
  options: RateLimitedWarnOptions,
): RateLimitedWarn {
  const limiter = new RateLimiter(options);
  const schedule = options.schedule ?? scheduleUnref;
  let held: string | undefined;
  let heldCount = 0;
  let cancel = () => {};
  function flush(): void {
    cancel();
    cancel = () => {};
    if (held === undefined) return;
    // The line written now starts the next window.
    limiter.pass();
    limiter.takeHeld();
    const others = heldCount - 1;
    write(others ? `${held} (and ${others} more since the last line)` : held);
    held = undefined;
    heldCount = 0;
  }
  function warn(message: string): void {
    if (held === undefined && limiter.pass()) return write(message);
    if (held === undefined) cancel = schedule(flush, limiter.waitMillis());
    held = message;
    heldCount++;
  }
  return { warn, flush };
}

// A line held back must not keep a stopping process alive.
function scheduleUnref(callback: () => void, millis: number): () => void {
  const timer = setTimeout(callback, millis);
  Deno.unrefTimer(timer);
  return () => clearTimeout(timer);
}

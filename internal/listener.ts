/**
 * Where the service listens: Go's `ListenAndServe(":8080")` with what a
 * service that must not fall over adds to it.
 *
 * - Both address families, as Go's ":8080" does, or IPv4 alone where the
 *   machine has no IPv6; or the one address `DICE_HOST` names, such as
 *   127.0.0.1 for loopback only, where the permissions allow it.
 * - The port is bound before OpenTelemetry is set up, so that a port in use
 *   stops the service before it has telemetry to flush; requests in that
 *   moment are answered 503.
 * - Running out of file descriptors is outlived (`internal/serve.ts`).
 * - A shutdown lets requests in flight finish, but not for ever: a client
 *   that never finishes its request must not hold back the flush of
 *   everyone else's telemetry until the deadline.
 *
 * @module
 */

import { messageOf } from "./errors.ts";
import { bracketed, listenDenied } from "./host.ts";
import { textResponse } from "./http.ts";
import { type ResilientServer, serveResilient } from "./serve.ts";
import { TIMED_OUT, within } from "./timeout.ts";

/** A handler that `Deno.serve` accepts. */
export type Handler = Deno.ServeHandler<Deno.NetAddr>;

/** A bound port, made by {@linkcode listen}. */
export interface Listener {
  /** The address bound. */
  readonly addr: Deno.NetAddr;
  /** Serves `handler` from now on, and says where on stderr. */
  serve(handler: Handler): void;
  /**
   * Stops accepting and waits for the requests in flight, at most `millis`;
   * says so when some were still open.
   */
  drain(millis: number): Promise<void>;
  /** Stops accepting and waits for the requests in flight. */
  close(): Promise<void>;
}

/** Where {@linkcode listen} binds. */
export interface ListenOptions {
  /** The port; 0 picks a free one. */
  port: number;
  /** `DICE_HOST`: one address; undefined for both address families. */
  hostname?: string | undefined;
}

// Addresses that stand for every interface, where localhost answers too.
const WILDCARDS = ["::", "0.0.0.0"];

/**
 * Binds `port` on `hostname`, or on both address families, answering 503
 * until {@linkcode Listener.serve}; undefined, said in one line through
 * `warn`, when it cannot listen at all.
 */
export function listen(
  { port, hostname }: ListenOptions,
  warn: (message: string) => void,
): Listener | undefined {
  let handler: Handler = serviceUnavailable;
  const server = bind(
    port,
    hostname,
    (request, info) => handler(request, info),
    warn,
  );
  if (server === undefined) return undefined;
  return {
    addr: server.addr,
    serve(next) {
      handler = next;
      // The address bound, which for a host name is the one it resolved to.
      warn(listeningOn(server.addr));
    },
    drain: (millis) => drain(server, millis, warn),
    close: () => server.shutdown(),
  };
}

/** Where the service listens, and a URL to try, in words. */
export function listeningOn({ hostname, port }: Deno.NetAddr): string {
  const host = bracketed(hostname);
  const tryHost = WILDCARDS.includes(hostname) ? "localhost" : host;
  return `listening on http://${host}:${port}/ ` +
    `(try http://${tryHost}:${port}/rolldice/Alice)`;
}

function serviceUnavailable(): Response {
  return textResponse("503 service unavailable: starting\n", 503);
}

function bind(
  port: number,
  host: string | undefined,
  handler: Handler,
  warn: (message: string) => void,
): ResilientServer | undefined {
  const denied = host === undefined
    ? undefined
    : listenDenied("DICE_HOST", host, port);
  if (denied !== undefined) {
    warn(denied);
    return undefined;
  }
  // Said only where DICE_HOST chose the address.
  const on = host === undefined ? "" : ` on ${host}`;
  for (const hostname of host === undefined ? WILDCARDS : [host]) {
    try {
      return serveResilient({ port, hostname }, handler, { warn });
    } catch (error) {
      if (host === undefined && hostname === "::" && isNoIPv6(error)) {
        warn(`no IPv6 here (${messageOf(error)}); listening on IPv4`);
        continue;
      }
      warn(
        error instanceof Deno.errors.AddrInUse
          ? `port ${port} is already in use${on}; set PORT to a free port`
          : `cannot listen${on} on port ${port}: ${messageOf(error)}` +
            (host !== undefined && error instanceof Deno.errors.AddrNotAvailable
              ? "; set DICE_HOST to an address of this machine"
              : ""),
      );
      return undefined;
    }
  }
}

// EADDRNOTAVAIL or EAFNOSUPPORT: a kernel without IPv6, or with it turned off.
function isNoIPv6(error: unknown): boolean {
  return error instanceof Deno.errors.AddrNotAvailable ||
    /address family not supported|os error 97/i.test(messageOf(error));
}

async function drain(
  server: ResilientServer,
  millis: number,
  warn: (message: string) => void,
): Promise<void> {
  if (await within(server.shutdown(), millis) !== TIMED_OUT) return;
  warn(
    `connections still open after ${millis} ms; flushing the telemetry ` +
      "without waiting for them",
  );
}

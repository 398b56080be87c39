/**
 * Fake OTLP/HTTP collectors for the tests, on raw TCP so that they can
 * misbehave as real ones do: refuse, hang, drip, answer 429 or 503, close
 * mid-response, speak garbage where TLS is expected, or reject part of a
 * batch. Each decodes the OTLP/JSON requests it gets and counts what it
 * confirmed: the items of every request it answered with a 2xx in full,
 * less what it said it rejected.
 *
 * @module
 */

/** How the collector answers one request. */
export type Answer =
  | { kind: "ok"; rejected?: number }
  | { kind: "status"; status: number; retryAfter?: string }
  | { kind: "hang" }
  | { kind: "drip" }
  | { kind: "close mid-response" }
  | { kind: "garbage" };

/** What a fake collector confirmed and saw. */
export interface Confirmed {
  /** Spans in requests answered 2xx in full, less those rejected. */
  spans: number;
  /** Log records likewise. */
  logRecords: number;
  /** Metric exports answered 2xx in full. */
  metricExports: number;
}

/** A fake collector, made by {@linkcode fakeCollector}. */
export interface FakeCollector {
  /** `http://127.0.0.1:PORT`, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  /** What it confirmed so far. */
  confirmed: Confirmed;
  /** What happened, in order: `"<path> <answer kind>"` per request. */
  events: string[];
  /** Requests received. */
  requests: number;
  /** Connections open now. */
  openConnections: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

/**
 * A collector on 127.0.0.1 that answers the `n`th request (from 0) as
 * `answer(n, path)` says. A dripping answer sends its headers, then one
 * byte of its body every `dripMillis`. Each event is also pushed on
 * `events`, when given, for a test to interleave with its own.
 */
export function fakeCollector(
  answer: (n: number, path: string) => Answer,
  { dripMillis = 100, events = [] }: {
    dripMillis?: number;
    events?: string[];
  } = {},
): FakeCollector {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections = new Set<Deno.Conn>();
  const collector: FakeCollector = {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    confirmed: { spans: 0, logRecords: 0, metricExports: 0 },
    events,
    requests: 0,
    get openConnections() {
      return connections.size;
    },
    async close() {
      try {
        listener.close();
      } catch {
        // Closed already.
      }
      for (const conn of connections) close(conn);
      await accepting;
    },
  };

  async function serve(conn: Deno.Conn): Promise<void> {
    connections.add(conn);
    try {
      for (;;) {
        const request = await readRequest(conn);
        if (request === undefined) return;
        const n = collector.requests++;
        const plan = answer(n, request.path);
        collector.events.push(`got: ${request.path} ${plan.kind}`);
        if (!await respond(conn, plan, request, collector, dripMillis)) return;
      }
    } catch {
      // The client went away: what it was sent is not confirmed.
    } finally {
      connections.delete(conn);
      close(conn);
    }
  }

  const accepting = (async () => {
    try {
      for await (const conn of listener) serve(conn);
    } catch {
      // Closed.
    }
  })();
  return collector;
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

interface Request {
  path: string;
  body: string;
}

// Reads one HTTP/1.1 request with a Content-Length body; undefined at EOF.
async function readRequest(conn: Deno.Conn): Promise<Request | undefined> {
  let data = new Uint8Array(0);
  const chunk = new Uint8Array(64 * 1024);
  for (;;) {
    const text = new TextDecoder("latin1").decode(data);
    const headEnd = text.indexOf("\r\n\r\n");
    if (headEnd >= 0) {
      const head = text.slice(0, headEnd);
      const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (data.length >= headEnd + 4 + length) {
        return {
          path: head.split(" ")[1],
          body: new TextDecoder().decode(
            data.subarray(headEnd + 4, headEnd + 4 + length),
          ),
        };
      }
    }
    const n = await conn.read(chunk);
    if (n === null) return undefined;
    const joined = new Uint8Array(data.length + n);
    joined.set(data);
    joined.set(chunk.subarray(0, n), data.length);
    data = joined;
  }
}

// The items of an OTLP/JSON request.
function itemsOf(path: string, body: string): number {
  const request = JSON.parse(body);
  if (path.endsWith("/v1/traces")) {
    return request.resourceSpans.flatMap((r: { scopeSpans: unknown[] }) =>
      r.scopeSpans
    ).reduce((sum: number, s: { spans: unknown[] }) => sum + s.spans.length, 0);
  }
  if (path.endsWith("/v1/logs")) {
    return request.resourceLogs.flatMap((r: { scopeLogs: unknown[] }) =>
      r.scopeLogs
    ).reduce(
      (sum: number, s: { logRecords: unknown[] }) => sum + s.logRecords.length,
      0,
    );
  }
  return 1;
}

// Answers as planned; false once the connection is done for.
async function respond(
  conn: Deno.Conn,
  plan: Answer,
  request: Request,
  collector: FakeCollector,
  dripMillis: number,
): Promise<boolean> {
  const write = (text: string) => conn.write(encoder.encode(text));
  switch (plan.kind) {
    case "ok": {
      const rejected = plan.rejected ?? 0;
      const body = rejected > 0
        ? JSON.stringify({
          partialSuccess: {
            [rejectedField(request.path)]: String(rejected),
            errorMessage: "over quota",
          },
        })
        : "{}";
      await write(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
          `Content-Length: ${body.length}\r\n\r\n${body}`,
      );
      const items = itemsOf(request.path, request.body);
      if (request.path.endsWith("/v1/traces")) {
        collector.confirmed.spans += items - rejected;
      } else if (request.path.endsWith("/v1/logs")) {
        collector.confirmed.logRecords += items - rejected;
      } else collector.confirmed.metricExports++;
      return true;
    }
    case "status":
      await write(
        `HTTP/1.1 ${plan.status} Nope\r\nContent-Length: 0\r\n` +
          (plan.retryAfter ? `Retry-After: ${plan.retryAfter}\r\n` : "") +
          "\r\n",
      );
      return true;
    case "hang":
      // Reads on, so that it sees the client close the connection.
      while (await conn.read(new Uint8Array(1024)) !== null) {
        // Nothing to answer.
      }
      return false;
    case "drip":
      await write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, dripMillis));
        await write("x");
      }
    case "close mid-response":
      await write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{");
      return false;
    case "garbage":
      await write("garbage, not TLS\r\n\r\n");
      return false;
  }
}

function rejectedField(path: string): string {
  if (path.endsWith("/v1/traces")) return "rejectedSpans";
  if (path.endsWith("/v1/logs")) return "rejectedLogRecords";
  return "rejectedDataPoints";
}

/**
 * The body sizes of `http.server.request.body.size` and
 * `http.server.response.body.size`, counted as Go's otelhttp counts them:
 * the bytes of the request body that the handler read, and the bytes of the
 * response body that the handler wrote.
 *
 * A Deno handler writes no bytes: it returns a `Response`, whose body
 * `Deno.serve` sends after the handler has returned. Its size is what the
 * handler told {@linkcode withBodySize}, else the `Content-Length` it
 * declared, else the bytes of a copy of the body, counted as they come, so
 * that the body itself is sent as it would be (with the length Deno
 * computes, or chunked).
 *
 * @module
 */

/** A request as the handler is given it, and the bytes of its body read so far. */
export interface CountedRequest {
  /** The request to hand to the handler. */
  readonly request: Request;
  /** How many bytes of the body the handler has read so far. */
  readonly bytesRead: () => number;
}

const NOTHING_READ = () => 0;

/**
 * `request` with a body that counts the bytes the handler reads; the request
 * itself when it has no body (GET and HEAD never do), which costs nothing.
 */
export function countRequestBody(request: Request): CountedRequest {
  const source = request.body;
  if (!source) return { request, bytesRead: NOTHING_READ };
  let read = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // Pulled only when the handler reads, one chunk at a time, so that what
  // is counted is what the handler has read, not what was buffered ahead.
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      reader ??= source.getReader();
      const { done, value } = await reader.read();
      if (done) return controller.close();
      read += value.byteLength;
      controller.enqueue(value);
    },
    cancel: (reason) => (reader ?? source).cancel(reason),
  }, { highWaterMark: 0 });
  let counted: Request;
  try {
    // Built from the parts rather than from `request`, whose signal the copy
    // would read: Deno 2.9 then prints a notice on stderr about it.
    counted = new Request(request.url, {
      method: request.method,
      headers: request.headers,
      body,
      duplex: "half",
    } as RequestInit);
  } catch {
    // A method the Request constructor will not give a body ("get" is
    // taken as GET, though HTTP's methods are case-sensitive): served as
    // it came, its body uncounted.
    return { request, bytesRead: NOTHING_READ };
  }
  return { request: counted, bytesRead: () => read };
}

/**
 * How much of a body without `Content-Length` is read from its copy: a
 * string or byte body is read whole at once; a stream is read ahead of the
 * client by at most this much.
 */
export const MAX_COUNTED_BYTES = 64 * 1024;

const DECIMAL = /^\d{1,15}$/;

// The statuses whose responses carry no body (a WebSocket upgrade's too).
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 204, 205, 304]);

// Sizes that handlers told withBodySize(); a response forgets its own.
const KNOWN_SIZES = new WeakMap<Response, number>();

/**
 * Tells the HTTP instrumentation that `response`'s body holds `bytes`
 * bytes, and returns it: a handler that built the body knows, and saves the
 * instrumentation reading a copy of it (or a `Content-Length` header, which
 * costs more to set than the copy does to read, for a short body).
 */
export function withBodySize(response: Response, bytes: number): Response {
  KNOWN_SIZES.set(response, bytes);
  return response;
}

/**
 * Calls `record` with the size of `response`'s body, once it is known: at
 * once when the status allows no body or the handler declared the length,
 * else when a copy of the body has been read. A streamed body longer than
 * {@linkcode MAX_COUNTED_BYTES} without a declared length is not recorded:
 * counting it would mean reading the stream ahead of the client, holding in
 * memory whatever the client has not yet taken.
 */
export function countResponseBody(
  response: Response,
  record: (bytes: number) => void,
): void {
  if (NULL_BODY_STATUSES.has(response.status)) return record(0);
  const known = KNOWN_SIZES.get(response);
  if (known !== undefined) return record(known);
  const declared = response.headers.get("content-length");
  if (declared !== null && DECIMAL.test(declared)) {
    return record(Number(declared));
  }
  // The copy, not the response: asking a string body for its stream costs
  // more than the copy, and Deno.serve sends a string without one.
  let copy: ReadableStream<Uint8Array> | null;
  try {
    copy = response.clone().body;
  } catch {
    return; // a body already read or locked: Deno.serve cannot send it either
  }
  if (copy === null) return record(0);
  countStream(copy).then((bytes) => {
    if (bytes !== undefined) record(bytes);
  }, () => {}); // a failing stream fails the response too: nothing was sent whole
}

// The stream's length; undefined past the bound, where reading stops.
async function countStream(
  stream: ReadableStream<Uint8Array>,
): Promise<number | undefined> {
  const reader = stream.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
    if (bytes > MAX_COUNTED_BYTES) {
      await reader.cancel();
      return undefined;
    }
  }
}

/**
 * A small request router in the spirit of Go's `http.ServeMux`: patterns
 * such as `/rolldice/{player}`, no method in the pattern, 404 for the rest.
 *
 * @module
 */

/** The path values a pattern captured, percent-decoded: `{ player: "Alice" }`. */
export type PathValues = Readonly<Record<string, string>>;

/** Serves one request whose path matched a pattern. */
export type RouteHandler = (
  request: Request,
  pathValues: PathValues,
) => Response | Promise<Response>;

interface Route {
  readonly pattern: URLPattern;
  readonly handler: RouteHandler;
}

const TEXT = { "content-type": "text/plain; charset=utf-8" };

/**
 * The longest path served, in characters. Deno accepts request lines of
 * up to 64 KiB; a cap of 8 KiB, as common web servers have, keeps a player
 * name from filling the log queue with megabytes per record.
 */
export const MAX_PATH_LENGTH = 8192;

/** Routes each request to the handler whose pattern matches its whole path. */
export class ServeMux {
  readonly #routes: Route[] = [];

  /**
   * Registers `handler` for `pattern`: a path whose segments are literals
   * or `{name}` wildcards that match exactly one non-empty segment.
   */
  handle(pattern: string, handler: RouteHandler): void {
    if (!/^\/([\w.~-]+\/|\{\w+\}\/)*([\w.~-]+|\{\w+\})?$/.test(pattern)) {
      throw new TypeError(
        `pattern must be a path of literal or {name} segments, got ${
          JSON.stringify(pattern)
        }`,
      );
    }
    const pathname = pattern.replace(/\{(\w+)\}/g, ":$1");
    this.#routes.push({ pattern: new URLPattern({ pathname }), handler });
  }

  /**
   * Serves `request`: 404 when no pattern matches, 400 when a segment is not
   * valid percent-encoding, 414 when the path is longer than
   * {@linkcode MAX_PATH_LENGTH}.
   */
  serve(request: Request): Response | Promise<Response> {
    const pathname = new URL(request.url).pathname;
    if (pathname.length > MAX_PATH_LENGTH) {
      return new Response("414 URI too long\n", { status: 414, headers: TEXT });
    }
    for (const { pattern, handler } of this.#routes) {
      const match = pattern.exec({ pathname });
      if (!match) continue;
      const pathValues = decodeAll(match.pathname.groups);
      if (!pathValues) {
        return new Response(
          "400 bad request: malformed percent-encoding in path\n",
          {
            status: 400,
            headers: TEXT,
          },
        );
      }
      return handler(request, pathValues);
    }
    return new Response("404 page not found\n", { status: 404, headers: TEXT });
  }
}

function decodeAll(
  groups: Record<string, string | undefined>,
): PathValues | undefined {
  const values: Record<string, string> = {};
  for (const [name, raw] of Object.entries(groups)) {
    if (raw === undefined) continue;
    try {
      values[name] = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return values;
}

/**
 * The service's serving alone, for `serve_test.ts` to flood: it serves "ok"
 * with {@linkcode serveResilient} on the host given as its first argument
 * and a free port, says where on stderr, and on SIGTERM shuts down and exits
 * 0. The second argument is the warnings' window in milliseconds.
 *
 * @module
 */

import { serveResilient } from "../serve.ts";
import { logToStderr } from "../stderr.ts";

const [hostname = "127.0.0.1", windowMillis = "10000"] = Deno.args;
const server = serveResilient(
  { port: 0, hostname },
  () => new Response("ok\n"),
  { warn: logToStderr, windowMillis: Number(windowMillis) },
);
logToStderr(`listening on port ${server.addr.port}`);
Deno.addSignalListener("SIGTERM", function stop() {
  Deno.removeSignalListener("SIGTERM", stop);
  server.shutdown();
});
await server.finished;

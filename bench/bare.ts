/**
 * The benchmark's baseline: the dice routes on bare `Deno.serve`, with the
 * same router and no telemetry at all, the most this runtime can do.
 *
 * @module
 */

import { ServeMux } from "../mux.ts";

const mux = new ServeMux();
function rolldice(): Response {
  const roll = 1 + Math.floor(Math.random() * 6);
  return new Response(`${roll}\n`, {
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
mux.handle("/rolldice", rolldice);
mux.handle("/rolldice/", rolldice);
mux.handle("/rolldice/{player}", rolldice);

const server = Deno.serve(
  {
    hostname: "127.0.0.1",
    port: Number(Deno.env.get("PORT") ?? 8080),
    onListen() {},
  },
  (request) => mux.serve(request),
);
console.error(`listening on http://127.0.0.1:${server.addr.port}/`);
Deno.addSignalListener("SIGTERM", async () => {
  await server.shutdown();
  Deno.exit(0);
});

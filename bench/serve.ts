/**
 * How the benchmark's own services listen: on 127.0.0.1 at `PORT`, saying
 * so on stderr, and exiting cleanly on SIGTERM, which for Deno's built-in
 * telemetry is what flushes it.
 *
 * @module
 */

/** Serves `handler` until SIGTERM. */
export function serveForBench(
  handler: (request: Request) => Response | Promise<Response>,
): void {
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: Number(Deno.env.get("PORT") ?? 8080),
      onListen() {},
    },
    handler,
  );
  console.error(`listening on http://127.0.0.1:${server.addr.port}/`);
  Deno.addSignalListener("SIGTERM", async () => {
    await server.shutdown();
    Deno.exit(0);
  });
}

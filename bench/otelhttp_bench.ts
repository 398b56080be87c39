import { newHandler, withRouteTag } from "../otelhttp/mod.ts";
import { ServeMux } from "../internal/mux.ts";
import { ExportResultCode } from "@opentelemetry/core";
import { setupOTelSDK } from "../otel.ts";
import { TEST_INFO } from "../testing.ts";

const ok = () => new Response("4\n");
const request = () =>
  new Request("http://localhost:8080/rolldice/Alice", {
    headers: { "user-agent": "bench" },
  });

function routes() {
  const mux = new ServeMux();
  mux.handle("/rolldice/{player}", withRouteTag("/rolldice/{player}", ok));
  return (req: Request) => mux.serve(req);
}

Deno.bench(
  "ServeMux.serve() alone",
  { group: "request", baseline: true },
  async () => {
    await routes()(request());
  },
);

// Exporters that drop everything at once, so that only the recording is measured.
const discard = {
  export: (_: unknown, done: (result: { code: ExportResultCode }) => void) =>
    done({ code: ExportResultCode.SUCCESS }),
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
const shutdown = await setupOTelSDK({
  spanExporter: discard,
  metricExporter: discard,
  logRecordExporter: discard,
});
const instrumented = newHandler(routes());

Deno.bench("newHandler() with the SDK recording a span and two metrics", {
  group: "request",
}, async () => {
  await instrumented(request(), TEST_INFO);
});

Deno.bench(
  "newHandler() with a traceparent to extract",
  { group: "request" },
  async () => {
    await instrumented(
      new Request("http://localhost:8080/rolldice/Alice", {
        headers: {
          traceparent:
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        },
      }),
      TEST_INFO,
    );
  },
);

globalThis.addEventListener("unload", () => shutdown());

import { resourceFromAttributes } from "@opentelemetry/resources";
import { SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { ExportResultCode } from "@opentelemetry/core";
import { StdoutSpanExporter, type TextSink } from "./stdout_exporter.ts";

// Collect 512 real spans, the default batch size, to export again and again.
const spans: ReadableSpan[] = [];
const provider = new TracerProvider({
  resource: resourceFromAttributes({
    "service.name": "dice",
    "service.version": "0.1.0",
  }),
  spanProcessors: [
    new SimpleSpanProcessor({
      exporter: {
        export: (batch, done) => {
          spans.push(...batch);
          done({ code: ExportResultCode.SUCCESS });
        },
        shutdown: () => Promise.resolve(),
      },
    }),
  ],
});
const tracer = provider.getTracer("dice");
for (let i = 0; i < 512; i++) {
  const span = tracer.startSpan("GET /rolldice/{player}", {
    attributes: {
      "http.request.method": "GET",
      "url.path": `/rolldice/player${i}`,
      "http.response.status_code": 200,
    },
  });
  span.end();
}

const discard: TextSink = { unwritten: 0, write: () => Promise.resolve() };

for (const format of ["pretty", "compact"] as const) {
  const exporter = new StdoutSpanExporter({ sink: discard, format });
  Deno.bench(`StdoutSpanExporter renders a batch of 512 spans, ${format}`, {
    group: "render",
  }, async () => {
    await new Promise((resolve) => exporter.export(spans, resolve));
  });
}

import assert from "node:assert/strict";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { newPrometheusReader } from "./prometheus.ts";

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

Deno.test("newPrometheusReader() serves the metrics until the meter provider shuts down", async () => {
  const port = freePort();
  const reader = await newPrometheusReader({ host: "127.0.0.1", port });
  const provider = new MeterProvider({ readers: [reader] });
  try {
    provider.getMeter("dice").createCounter("dice.rolls", { unit: "{roll}" })
      .add(3, { "roll.value": 6 });
    // A scraper's connection, kept alive, must not hold the shutdown back.
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(response.status, 200);
    assert.match(
      await response.text(),
      /^dice_rolls_total\{roll_value="6",otel_scope_name="dice"\} 3$/m,
    );
  } finally {
    await provider.shutdown();
  }
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("newPrometheusReader() says in one line why it cannot listen", async (t) => {
  await t.step("a port in use", async () => {
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = taken.addr;
    await assert.rejects(
      newPrometheusReader({ host: "127.0.0.1", port }),
      (error: unknown) =>
        error instanceof Error &&
        error.message ===
          `OTEL_EXPORTER_PROMETHEUS_PORT ${port} is already in use on ` +
            "127.0.0.1; set OTEL_EXPORTER_PROMETHEUS_PORT to a free port",
    );
  });
  await t.step("an address the permissions forbid", async () => {
    await assert.rejects(
      newPrometheusReader({ host: "192.0.2.1", port: 9464 }),
      (error: unknown) =>
        error instanceof Error &&
        error.message ===
          "OTEL_EXPORTER_PROMETHEUS_HOST 192.0.2.1 is not in dice's " +
            "network permissions; run deno run -P --allow-net=192.0.2.1 " +
            'main.ts, or add "192.0.2.1" to permissions.default.net in ' +
            "deno.json",
    );
  });
});

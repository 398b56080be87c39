import assert from "node:assert/strict";
import {
  type Config,
  ConfigError,
  DEFAULT_CONFIG,
  isDenoTelemetryEnabled,
  readConfig,
} from "./config.ts";

function read(
  env: Record<string, string>,
): { config: Config; warnings: string[] } {
  const warnings: string[] = [];
  const config = readConfig(
    (name) => env[name],
    (message) => warnings.push(message),
  );
  return { config, warnings };
}

Deno.test("readConfig() returns the demo defaults when nothing is set", () => {
  assert.deepEqual(read({}), { config: DEFAULT_CONFIG, warnings: [] });
  assert.deepEqual(DEFAULT_CONFIG, {
    port: 8080,
    bspScheduleDelayMillis: 1000,
    blrpScheduleDelayMillis: 1000,
    metricExportIntervalMillis: 3000,
    consoleFormat: "pretty",
  });
});

Deno.test("readConfig() reads PORT", async (t) => {
  for (
    const [raw, port] of [
      ["0", 0],
      ["80", 80],
      [" 65535 ", 65535],
      ["", 8080],
      ["  ", 8080],
    ] as const
  ) {
    await t.step(JSON.stringify(raw), () => {
      assert.equal(read({ PORT: raw }).config.port, port);
    });
  }
  for (
    const raw of ["abc", "-1", "65536", "80.5", "0x50", "1e3", "8080 8081"]
  ) {
    await t.step(`rejects ${JSON.stringify(raw)}`, () => {
      assert.throws(
        () => read({ PORT: raw }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message ===
            `PORT must be an integer from 0 to 65535, got ${
              JSON.stringify(raw)
            }`,
      );
    });
  }
});

Deno.test("readConfig() reads the export intervals in milliseconds", () => {
  const { config, warnings } = read({
    OTEL_BSP_SCHEDULE_DELAY: "250",
    OTEL_BLRP_SCHEDULE_DELAY: "0",
    OTEL_METRIC_EXPORT_INTERVAL: " 60000 ",
  });
  assert.deepEqual(warnings, []);
  assert.equal(config.bspScheduleDelayMillis, 250);
  assert.equal(config.blrpScheduleDelayMillis, 0);
  assert.equal(config.metricExportIntervalMillis, 60000);
});

Deno.test("readConfig() warns once per bad value and keeps the default", async (t) => {
  const cases: Array<[string, string, string]> = [
    [
      "OTEL_BSP_SCHEDULE_DELAY",
      "soon",
      "a non-negative integer number of milliseconds",
    ],
    [
      "OTEL_BSP_SCHEDULE_DELAY",
      "-5",
      "a non-negative integer number of milliseconds",
    ],
    [
      "OTEL_BLRP_SCHEDULE_DELAY",
      "1.5",
      "a non-negative integer number of milliseconds",
    ],
    [
      "OTEL_METRIC_EXPORT_INTERVAL",
      "0",
      "a positive integer number of milliseconds",
    ],
    [
      "OTEL_METRIC_EXPORT_INTERVAL",
      "3s",
      "a positive integer number of milliseconds",
    ],
    ["DICE_CONSOLE_FORMAT", "yaml", "one of pretty, compact"],
  ];
  for (const [name, raw, accepts] of cases) {
    await t.step(`${name}=${raw}`, () => {
      const { config, warnings } = read({ [name]: raw });
      assert.deepEqual(config, DEFAULT_CONFIG);
      assert.equal(warnings.length, 1);
      assert.match(
        warnings[0],
        new RegExp(
          `^${name} must be ${accepts}, got "${
            raw.replace(".", "\\.")
          }"; using `,
        ),
      );
    });
  }
});

Deno.test("readConfig() reads DICE_CONSOLE_FORMAT case-insensitively", () => {
  assert.equal(
    read({ DICE_CONSOLE_FORMAT: "Compact" }).config.consoleFormat,
    "compact",
  );
  assert.equal(
    read({ DICE_CONSOLE_FORMAT: "PRETTY" }).config.consoleFormat,
    "pretty",
  );
});

Deno.test("isDenoTelemetryEnabled() reads OTEL_DENO as Deno does", () => {
  for (const value of ["true", "TRUE", "tRuE"]) {
    assert.equal(isDenoTelemetryEnabled(() => value), true, value);
  }
  for (const value of [undefined, "", "false", "1", "yes", " true"]) {
    assert.equal(isDenoTelemetryEnabled(() => value), false, value);
  }
});

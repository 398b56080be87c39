import assert from "node:assert/strict";
import {
  type Config,
  ConfigError,
  DEFAULT_CONFIG,
  isDenoTelemetryEnabled,
  MAX_MILLIS,
  readConfig,
  refusePrometheusUnderWorkers,
  type Signal,
  type SignalConfig,
} from "./config.ts";
import { BATCH_CAPS } from "./sdk_config.ts";
import { FRAMING_HEADERS } from "./strict.ts";

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

/** Asserts that `env` changes only `changes` of the defaults, silently. */
function assertReads(
  env: Record<string, string>,
  changes: Partial<Config>,
): void {
  const { config, warnings } = read(env);
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, { ...DEFAULT_CONFIG, ...changes });
}

/** Asserts that `env` leaves the defaults as they are, with one warning. */
function assertRejects(
  env: Record<string, string>,
  warning: string,
  changes: Partial<Config> = {},
): void {
  const { config, warnings } = read(env);
  assert.deepEqual(warnings, [warning]);
  assert.deepEqual(config, { ...DEFAULT_CONFIG, ...changes });
}

function consoleOnly(signal: Signal): SignalConfig {
  return {
    exporters: ["console"],
    protocol: "http/protobuf",
    endpoint: `http://localhost:4318/v1/${signal}`,
    timeoutMillis: 10000,
    headers: {},
    compression: "none",
    certificates: {},
  };
}

// Every signal exported over OTLP, so that its settings matter.
const OTLP_EVERYWHERE: Record<string, string> = {
  OTEL_TRACES_EXPORTER: "otlp",
  OTEL_METRICS_EXPORTER: "otlp",
  OTEL_LOGS_EXPORTER: "otlp",
};

Deno.test("readConfig() returns the demo defaults when nothing is set", () => {
  assertReads({}, {});
  assert.deepEqual(DEFAULT_CONFIG, {
    port: 8080,
    hostname: undefined,
    consoleFormat: "pretty",
    shutdownTimeoutMillis: 20000,
    sdkDisabled: false,
    sdkMetrics: false,
    traces: consoleOnly("traces"),
    metrics: consoleOnly("metrics"),
    logs: consoleOnly("logs"),
    prometheus: { host: "localhost", port: 9464 },
    propagators: ["tracecontext", "baggage"],
    sampler: { name: "parentbased_always_on", ratio: 1 },
    bsp: {
      scheduledDelayMillis: 1000,
      exportTimeoutMillis: 30000,
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
    },
    blrp: {
      scheduledDelayMillis: 1000,
      exportTimeoutMillis: 30000,
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
    },
    metricExportIntervalMillis: 3000,
    metricExportTimeoutMillis: 3000,
    spanLimits: {
      attributeValueLengthLimit: 4096,
      attributeCountLimit: 128,
      eventCountLimit: 128,
      linkCountLimit: 128,
      attributePerEventCountLimit: 128,
      attributePerLinkCountLimit: 128,
    },
    logRecordLimits: {
      attributeValueLengthLimit: 4096,
      attributeCountLimit: 128,
    },
    httpKnownMethods: [
      "CONNECT",
      "DELETE",
      "GET",
      "HEAD",
      "OPTIONS",
      "PATCH",
      "POST",
      "PUT",
      "QUERY",
      "TRACE",
    ],
  });
});

Deno.test("readConfig() reads OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS, which replaces the default list", () => {
  const name = "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS";
  assertReads({ [name]: " GET, BREW ,GET,,purge" }, {
    httpKnownMethods: ["GET", "BREW", "purge"],
  });
  assertRejects(
    { [name]: "GET,a b,{}" },
    `${name} accepts a comma-separated list of HTTP method names; "a b", "{}" are not one; using GET`,
    { httpKnownMethods: ["GET"] },
  );
  assertRejects(
    { [name]: "a b" },
    `${name} accepts a comma-separated list of HTTP method names; "a b" is not one; using CONNECT,DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT,QUERY,TRACE`,
  );
});

Deno.test("readConfig() treats an empty or blank value as unset", () => {
  assertReads({
    PORT: "",
    OTEL_TRACES_EXPORTER: " ",
    OTEL_PROPAGATORS: "",
    OTEL_SDK_DISABLED: "  ",
  }, {});
});

Deno.test("readConfig() reads PORT", async (t) => {
  for (
    const [raw, port] of [["0", 0], ["80", 80], [" 65535 ", 65535]] as const
  ) {
    await t.step(
      JSON.stringify(raw),
      () => assertReads({ PORT: raw }, { port }),
    );
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

Deno.test("readConfig() reads DICE_HOST", async (t) => {
  for (
    const [raw, hostname] of [
      ["127.0.0.1", "127.0.0.1"],
      [" ::1 ", "::1"],
      ["[::1]", "::1"],
      ["0:0:0:0:0:0:0:1", "::1"],
      ["::", "::"],
      ["0.0.0.0", "0.0.0.0"],
      ["LocalHost", "localhost"],
      ["dice-1.example.internal", "dice-1.example.internal"],
    ]
  ) {
    await t.step(JSON.stringify(raw), () => {
      assertReads({ DICE_HOST: raw }, { hostname });
    });
  }
  for (
    const raw of [
      "127.0.0.1:8080",
      "http://localhost",
      "256.1.1.1",
      "1.2.3",
      "[::1",
      "::1]",
      "fe80::1%eth0",
      "local host",
      "-dice",
      "dice.",
      "a".repeat(64),
    ]
  ) {
    await t.step(`rejects ${JSON.stringify(raw)}`, () => {
      assert.throws(
        () => read({ DICE_HOST: raw }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message ===
            "DICE_HOST must be an IP address or a host name, such as " +
              `127.0.0.1, ::1 or localhost, got ${JSON.stringify(raw)}`,
      );
    });
  }
});

Deno.test("readConfig() reads where Prometheus scrapes, when the metrics go there", async (t) => {
  const prometheus = { ...consoleOnly("metrics"), exporters: ["prometheus"] };
  await t.step("the specification's defaults", () => {
    assertReads({ OTEL_METRICS_EXPORTER: "prometheus" }, {
      metrics: prometheus as SignalConfig,
    });
  });
  await t.step("OTEL_EXPORTER_PROMETHEUS_HOST and _PORT", () => {
    assertReads({
      OTEL_METRICS_EXPORTER: "prometheus",
      OTEL_EXPORTER_PROMETHEUS_HOST: "[::1]",
      OTEL_EXPORTER_PROMETHEUS_PORT: "9100",
    }, {
      metrics: prometheus as SignalConfig,
      prometheus: { host: "::1", port: 9100 },
    });
  });
  await t.step("moot, and not checked, without prometheus", () => {
    assertReads({
      OTEL_EXPORTER_PROMETHEUS_HOST: "not a host",
      OTEL_EXPORTER_PROMETHEUS_PORT: "0",
    }, {});
  });
  const refusals: Array<[Record<string, string>, string]> = [
    [
      { OTEL_EXPORTER_PROMETHEUS_HOST: "localhost:9464" },
      'OTEL_EXPORTER_PROMETHEUS_HOST must be an IP address or a host name, such as 127.0.0.1, ::1 or localhost, got "localhost:9464"',
    ],
    ...["0", "65536", "9464a", "-1"].map((raw): [
      Record<string, string>,
      string,
    ] => [
      { OTEL_EXPORTER_PROMETHEUS_PORT: raw },
      `OTEL_EXPORTER_PROMETHEUS_PORT must be an integer from 1 to 65535, got "${raw}"`,
    ]),
    [
      { OTEL_EXPORTER_PROMETHEUS_PORT: "8080" },
      "OTEL_EXPORTER_PROMETHEUS_PORT must differ from PORT, both 8080",
    ],
  ];
  for (const [env, message] of refusals) {
    await t.step(`refuses ${JSON.stringify(env)}`, () => {
      assert.throws(
        () => read({ OTEL_METRICS_EXPORTER: "console,prometheus", ...env }),
        (error: unknown) =>
          error instanceof ConfigError && error.message === message,
      );
    });
  }
});

Deno.test("refusePrometheusUnderWorkers() refuses prometheus in several workers only", () => {
  const { config } = read({ OTEL_METRICS_EXPORTER: "otlp,prometheus" });
  refusePrometheusUnderWorkers(config.metrics, 1);
  refusePrometheusUnderWorkers(DEFAULT_CONFIG.metrics, 4);
  assert.throws(
    () => refusePrometheusUnderWorkers(config.metrics, 4),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message ===
        "OTEL_METRICS_EXPORTER=prometheus cannot run in 4 workers: each " +
          "would bind OTEL_EXPORTER_PROMETHEUS_PORT and see only its own " +
          "requests; run deno task start, or export the metrics with otlp",
  );
});

Deno.test("readConfig() reads OTEL_{TRACES,METRICS,LOGS}_EXPORTER", async (t) => {
  const cases: Array<[string, string, string[]]> = [
    ["OTEL_TRACES_EXPORTER", "otlp", ["otlp"]],
    ["OTEL_TRACES_EXPORTER", "otlp,console", ["otlp", "console"]],
    ["OTEL_METRICS_EXPORTER", " OTLP , Console ", ["otlp", "console"]],
    ["OTEL_LOGS_EXPORTER", "none", []],
    ["OTEL_LOGS_EXPORTER", "console,console", ["console"]],
    ["OTEL_TRACES_EXPORTER", "none,otlp", ["otlp"]],
    ["OTEL_METRICS_EXPORTER", "prometheus", ["prometheus"]],
    [
      "OTEL_METRICS_EXPORTER",
      "console,otlp,Prometheus",
      ["console", "otlp", "prometheus"],
    ],
  ];
  for (const [name, raw, exporters] of cases) {
    await t.step(`${name}=${raw}`, () => {
      const signal = name.split("_")[1].toLowerCase() as Signal;
      assertReads({ [name]: raw }, {
        [signal]: { ...consoleOnly(signal), exporters } as SignalConfig,
      });
    });
  }
  await t.step("skips what it does not support, with one line", () => {
    assertRejects(
      { OTEL_TRACES_EXPORTER: "otlp,zipkin" },
      'OTEL_TRACES_EXPORTER accepts a comma-separated list of console, otlp or none; "zipkin" is not supported; using otlp',
      { traces: { ...consoleOnly("traces"), exporters: ["otlp"] } },
    );
    assertRejects(
      { OTEL_METRICS_EXPORTER: "zipkin,logging" },
      'OTEL_METRICS_EXPORTER accepts a comma-separated list of console, otlp, prometheus or none; "zipkin", "logging" are not supported; using console',
    );
    // Prometheus pulls metrics only.
    assertRejects(
      { OTEL_LOGS_EXPORTER: "prometheus" },
      'OTEL_LOGS_EXPORTER accepts a comma-separated list of console, otlp or none; "prometheus" is not supported; using console',
    );
  });
});

Deno.test("readConfig() reads the OTLP protocol, the signal's own first", async (t) => {
  await t.step("http/json for all", () => {
    assertReads({ OTEL_EXPORTER_OTLP_PROTOCOL: "HTTP/JSON" }, {
      traces: { ...consoleOnly("traces"), protocol: "http/json" },
      metrics: { ...consoleOnly("metrics"), protocol: "http/json" },
      logs: { ...consoleOnly("logs"), protocol: "http/json" },
    });
  });
  await t.step("per signal", () => {
    assertReads({
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/protobuf",
    }, {
      traces: { ...consoleOnly("traces"), protocol: "http/json" },
      logs: { ...consoleOnly("logs"), protocol: "http/json" },
    });
  });
  await t.step("grpc: not supported, said once, http/protobuf used", () => {
    assertRejects(
      { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" },
      "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc is not supported by dice (it would bring @grpc/grpc-js into the binary); using http/protobuf, which OpenTelemetry collectors accept on port 4318",
    );
  });
  await t.step("grpc for all: said once, not once per signal", () => {
    assertRejects(
      { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
      "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported by dice (it would bring @grpc/grpc-js into the binary); using http/protobuf, which OpenTelemetry collectors accept on port 4318",
    );
  });
  await t.step("an unknown protocol", () => {
    assertRejects(
      { OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: "http/xml" },
      'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL must be one of http/protobuf, http/json, grpc, got "http/xml"; using http/protobuf',
    );
  });
});

Deno.test("readConfig() reads OTEL_SDK_DISABLED", () => {
  assertReads({ OTEL_SDK_DISABLED: "TRUE" }, { sdkDisabled: true });
  assertReads({ OTEL_SDK_DISABLED: "false" }, {});
  assertRejects(
    { OTEL_SDK_DISABLED: "yes" },
    'OTEL_SDK_DISABLED must be true or false, got "yes"; using false',
  );
});

Deno.test("readConfig() reads OTEL_PROPAGATORS", () => {
  assertReads({ OTEL_PROPAGATORS: "baggage,tracecontext" }, {
    propagators: ["baggage", "tracecontext"],
  });
  assertReads({ OTEL_PROPAGATORS: "none" }, { propagators: [] });
  assertRejects(
    { OTEL_PROPAGATORS: "tracecontext,b3" },
    'OTEL_PROPAGATORS accepts a comma-separated list of tracecontext, baggage or none; "b3" is not supported; using tracecontext',
    { propagators: ["tracecontext"] },
  );
});

Deno.test("readConfig() reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG", async (t) => {
  const cases: Array<[Record<string, string>, Config["sampler"]]> = [
    [{ OTEL_TRACES_SAMPLER: "always_off" }, { name: "always_off", ratio: 1 }],
    [{ OTEL_TRACES_SAMPLER: "AlWaYs_On" }, { name: "always_on", ratio: 1 }],
    [{ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" }, {
      name: "traceidratio",
      ratio: 0.25,
    }],
    [{
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0",
    }, {
      name: "parentbased_traceidratio",
      ratio: 0,
    }],
    [{ OTEL_TRACES_SAMPLER: "parentbased_traceidratio" }, {
      name: "parentbased_traceidratio",
      ratio: 1,
    }],
    [{
      OTEL_TRACES_SAMPLER: "parentbased_always_off",
      OTEL_TRACES_SAMPLER_ARG: "nonsense",
    }, {
      name: "parentbased_always_off",
      ratio: 1,
    }],
  ];
  for (const [env, sampler] of cases) {
    await t.step(JSON.stringify(env), () => assertReads(env, { sampler }));
  }
  await t.step("rejects a ratio outside 0..1", () => {
    assertRejects(
      { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "1.5" },
      'OTEL_TRACES_SAMPLER_ARG must be a probability from 0 to 1, got "1.5"; using 1',
      { sampler: { name: "traceidratio", ratio: 1 } },
    );
  });
  await t.step("rejects a sampler it does not know", () => {
    assertRejects(
      { OTEL_TRACES_SAMPLER: "jaeger_remote" },
      'OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, got "jaeger_remote"; using parentbased_always_on',
    );
  });
});

Deno.test("readConfig() reads the batch processor variables", async (t) => {
  await t.step("OTEL_BSP_*", () => {
    assertReads({
      OTEL_BSP_SCHEDULE_DELAY: "250",
      OTEL_BSP_EXPORT_TIMEOUT: "5000",
      OTEL_BSP_MAX_QUEUE_SIZE: "100",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "10",
    }, {
      bsp: {
        scheduledDelayMillis: 250,
        exportTimeoutMillis: 5000,
        maxQueueSize: 100,
        maxExportBatchSize: 10,
      },
    });
  });
  await t.step("OTEL_BLRP_*", () => {
    assertReads({
      OTEL_BLRP_SCHEDULE_DELAY: "0",
      OTEL_BLRP_MAX_QUEUE_SIZE: "4096",
    }, {
      blrp: {
        ...DEFAULT_CONFIG.blrp,
        scheduledDelayMillis: 0,
        maxQueueSize: 4096,
      },
    });
  });
  await t.step(
    "sizes above what keeps memory bounded are capped, with one line each",
    () => {
      const { config, warnings } = read({
        OTEL_BSP_MAX_QUEUE_SIZE: "99999999999",
        OTEL_BLRP_MAX_QUEUE_SIZE: "99999999999",
        OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: "99999",
      });
      assert.deepEqual(warnings, [
        "OTEL_BSP_MAX_QUEUE_SIZE=99999999999 is above 16384, the most dice holds so that its memory stays bounded; using 16384",
        "OTEL_BLRP_MAX_QUEUE_SIZE=99999999999 is above 16384, the most dice holds so that its memory stays bounded; using 16384",
        "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE=99999 is above 4096, the most dice holds so that its memory stays bounded; using 4096",
      ]);
      assert.equal(config.bsp.maxQueueSize, BATCH_CAPS.maxQueueSize);
      assert.equal(config.blrp.maxQueueSize, BATCH_CAPS.maxQueueSize);
      assert.equal(
        config.blrp.maxExportBatchSize,
        BATCH_CAPS.maxExportBatchSize,
      );
    },
  );
  await t.step("a batch larger than the queue is cut to fit", () => {
    assertRejects(
      { OTEL_BSP_MAX_QUEUE_SIZE: "100", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "200" },
      'OTEL_BSP_MAX_EXPORT_BATCH_SIZE must be at most OTEL_BSP_MAX_QUEUE_SIZE (100), got "200"; using 100',
      {
        bsp: {
          ...DEFAULT_CONFIG.bsp,
          maxQueueSize: 100,
          maxExportBatchSize: 100,
        },
      },
    );
  });
});

Deno.test("readConfig() reads the metric export interval and timeout", () => {
  assertReads({ OTEL_METRIC_EXPORT_INTERVAL: "60000" }, {
    metricExportIntervalMillis: 60000,
    metricExportTimeoutMillis: 30000,
  });
  assertReads({ OTEL_METRIC_EXPORT_INTERVAL: "1000" }, {
    metricExportIntervalMillis: 1000,
    metricExportTimeoutMillis: 1000,
  });
  assertReads({ OTEL_METRIC_EXPORT_TIMEOUT: "500" }, {
    metricExportTimeoutMillis: 500,
  });
  assertRejects(
    { OTEL_METRIC_EXPORT_TIMEOUT: "5000" },
    'OTEL_METRIC_EXPORT_TIMEOUT must be at most OTEL_METRIC_EXPORT_INTERVAL (3000), got "5000"; using 3000',
  );
});

Deno.test("readConfig() warns once per bad number and keeps the default", async (t) => {
  const cases: Array<[string, string, string]> = [
    [
      "OTEL_BSP_SCHEDULE_DELAY",
      "soon",
      "a non-negative integer number of milliseconds up to 2147483647",
    ],
    [
      "OTEL_BSP_SCHEDULE_DELAY",
      "-5",
      "a non-negative integer number of milliseconds up to 2147483647",
    ],
    [
      "OTEL_BLRP_SCHEDULE_DELAY",
      "1.5",
      "a non-negative integer number of milliseconds up to 2147483647",
    ],
    [
      "OTEL_BSP_EXPORT_TIMEOUT",
      "0",
      "a positive integer number of milliseconds up to 2147483647",
    ],
    ["OTEL_BLRP_MAX_QUEUE_SIZE", "lots", "a positive integer number of items"],
    [
      "OTEL_METRIC_EXPORT_INTERVAL",
      "0",
      "a positive integer number of milliseconds up to 2147483647",
    ],
    [
      "OTEL_METRIC_EXPORT_INTERVAL",
      "3s",
      "a positive integer number of milliseconds up to 2147483647",
    ],
    ["DICE_CONSOLE_FORMAT", "yaml", "one of pretty, compact"],
  ];
  for (const [name, raw, accepts] of cases) {
    await t.step(`${name}=${raw}`, () => {
      const { config, warnings } = read({ [name]: raw });
      assert.deepEqual(config, DEFAULT_CONFIG);
      assert.equal(warnings.length, 1);
      assert.ok(
        warnings[0].startsWith(
          `${name} must be ${accepts}, got ${JSON.stringify(raw)}; using `,
        ),
        warnings[0],
      );
    });
  }
});

Deno.test("readConfig() reads the attribute limits, the specific ones first", () => {
  assertReads({
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "100",
    OTEL_ATTRIBUTE_COUNT_LIMIT: "10",
    OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: "50",
    OTEL_SPAN_EVENT_COUNT_LIMIT: "0",
    OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: "3",
  }, {
    spanLimits: {
      attributeValueLengthLimit: 100,
      attributeCountLimit: 10,
      eventCountLimit: 0,
      linkCountLimit: 128,
      attributePerEventCountLimit: 128,
      attributePerLinkCountLimit: 3,
    },
    logRecordLimits: { attributeValueLengthLimit: 50, attributeCountLimit: 10 },
  });
  assertRejects(
    { OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: "0" },
    'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT must be a positive integer number of characters, got "0"; using 4096',
  );
});

Deno.test("readConfig() reads DICE_SHUTDOWN_TIMEOUT", () => {
  assertReads({ DICE_SHUTDOWN_TIMEOUT: "5000" }, {
    shutdownTimeoutMillis: 5000,
  });
  assertRejects(
    { DICE_SHUTDOWN_TIMEOUT: "5s" },
    'DICE_SHUTDOWN_TIMEOUT must be a positive integer number of milliseconds up to 2147483647, got "5s"; using 20000',
  );
});

Deno.test("readConfig() reads DICE_CONSOLE_FORMAT case-insensitively", () => {
  assertReads({ DICE_CONSOLE_FORMAT: "Compact" }, { consoleFormat: "compact" });
  assertReads({ DICE_CONSOLE_FORMAT: "PRETTY" }, {});
});

Deno.test("readConfig() finds each signal's OTLP endpoint as the specification says", async (t) => {
  const cases: Array<[Record<string, string>, Signal, string]> = [
    [{}, "traces", "http://localhost:4318/v1/traces"],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" },
      "logs",
      "http://collector:4318/v1/logs",
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example/base/" },
      "metrics",
      "https://otel.example/base/v1/metrics",
    ],
    [
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:1",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:2/x",
      },
      "traces",
      "http://b:2/x",
    ],
    [
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:1",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:2/x",
      },
      "logs",
      "http://a:1/v1/logs",
    ],
  ];
  for (const [env, signal, endpoint] of cases) {
    await t.step(`${JSON.stringify(env)} ${signal}`, () => {
      const { config, warnings } = read({ ...OTLP_EVERYWHERE, ...env });
      assert.equal(config[signal].endpoint, endpoint);
      assert.deepEqual(warnings, []);
    });
  }
  await t.step("a query in the base endpoint stays after the path", () => {
    const { config } = read({
      ...OTLP_EVERYWHERE,
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/base?tenant=1",
    });
    assert.equal(config.logs.endpoint, "http://c:4318/base/v1/logs?tenant=1");
  });
  await t.step("moot, and not checked, where nothing goes over OTLP", () => {
    assertReads({ OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" }, {});
  });
  for (
    const raw of [
      "not a url",
      "localhost:4318",
      "http://",
      "http://localhost:99999",
      "ftp://collector:4318",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "data:text/plain,x",
    ]
  ) {
    await t.step(`${JSON.stringify(raw)} stops the service in one line`, () => {
      for (
        const name of [
          "OTEL_EXPORTER_OTLP_ENDPOINT",
          "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        ]
      ) {
        assert.throws(
          () => read({ ...OTLP_EVERYWHERE, [name]: raw }),
          (error: Error) =>
            error instanceof ConfigError &&
            error.message ===
              `${name} must be an http:// or https:// URL with a host, such as http://localhost:4318, got ${
                JSON.stringify(raw)
              }`,
        );
      }
    });
  }
});

Deno.test("isDenoTelemetryEnabled() reads OTEL_DENO as Deno does", () => {
  for (const value of ["true", "TRUE", "tRuE"]) {
    assert.equal(isDenoTelemetryEnabled(() => value), true, value);
  }
  for (const value of [undefined, "", "false", "1", "yes", " true"]) {
    assert.equal(isDenoTelemetryEnabled(() => value), false, value);
  }
});

Deno.test("readConfig() refuses a millisecond setting that Deno's timers would wrap", async (t) => {
  for (
    const name of [
      "DICE_SHUTDOWN_TIMEOUT",
      "OTEL_METRIC_EXPORT_INTERVAL",
      "OTEL_METRIC_EXPORT_TIMEOUT",
      "OTEL_BSP_SCHEDULE_DELAY",
      "OTEL_BSP_EXPORT_TIMEOUT",
      "OTEL_BLRP_SCHEDULE_DELAY",
      "OTEL_BLRP_EXPORT_TIMEOUT",
      "OTEL_EXPORTER_OTLP_TIMEOUT",
      "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    ]
  ) {
    await t.step(name, () => {
      assert.equal(MAX_MILLIS, 2147483647);
      const { warnings } = read({ [name]: "2147483648" });
      assert.equal(warnings.length, 1);
      assert.match(
        warnings[0],
        new RegExp(
          `^${name} must be a (non-negative|positive) integer number of milliseconds up to 2147483647, got "2147483648"; using \\d+$`,
        ),
      );
      // The metric export timeout may not exceed the interval.
      const largest = {
        [name]: "2147483647",
        OTEL_METRIC_EXPORT_INTERVAL: "2147483647",
      };
      assert.deepEqual(read(largest).warnings, [], name);
    });
  }
});

Deno.test("readConfig() reads the OTLP timeout, the signal's own first", () => {
  const { config } = read({
    OTEL_EXPORTER_OTLP_TIMEOUT: "2000",
    OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: "500",
  });
  assert.equal(config.traces.timeoutMillis, 2000);
  assert.equal(config.metrics.timeoutMillis, 500);
  assert.equal(config.logs.timeoutMillis, 2000);
});

Deno.test("readConfig() stops at OTLP headers that would fail every export", async (t) => {
  const cases: Array<[string, string]> = [
    ["an invalid name", "api key=secret"],
    ["no equals sign", "authorization"],
    ["a CR/LF in a value", "a=1%0D%0AInjected: yes"],
    ["a raw newline", "a=1\nb=2"],
    ["a broken percent-encoding", "a=%zz"],
    ["a percent-encoded name that is not a token", "a%20b=1"],
    ["a percent-encoded CR/LF in a name", "x%0d%0ay=1"],
    ["a value beyond Latin-1", "x=%F0%9F%98%80"],
    ["100 KB", `a=${"x".repeat(100_000)}`],
  ];
  for (const [what, raw] of cases) {
    await t.step(what, () => {
      for (
        const name of [
          "OTEL_EXPORTER_OTLP_HEADERS",
          "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ]
      ) {
        assert.throws(
          () => read({ ...OTLP_EVERYWHERE, [name]: raw }),
          (error: Error) =>
            error instanceof ConfigError &&
            error.message.startsWith(
              `${name} must be a comma-separated list of name=value pairs`,
            ) && !error.message.includes("secret") &&
            error.message.length < 400,
        );
      }
    });
  }
  await t.step("valid headers pass, decoded, the signal's own winning", () => {
    const { config, warnings } = read({
      ...OTLP_EVERYWHERE,
      OTEL_EXPORTER_OTLP_HEADERS: "api-key=secret%20value, X-Tenant = dice ",
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: "x-tenant=logs;v=1",
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.traces.headers, {
      "api-key": "secret value",
      "x-tenant": "dice",
    });
    assert.deepEqual(config.logs.headers, {
      "api-key": "secret value",
      "x-tenant": "logs;v=1",
    });
  });
  for (const header of FRAMING_HEADERS) {
    await t.step(`${header}, which HTTP itself sets`, () => {
      for (const raw of [`${header}=5`, `a=1,${header.toUpperCase()}=x`]) {
        assert.throws(
          () =>
            read({
              ...OTLP_EVERYWHERE,
              OTEL_EXPORTER_OTLP_TRACES_HEADERS: raw,
            }),
          (error: Error) =>
            error instanceof ConfigError &&
            error.message.startsWith(
              `OTEL_EXPORTER_OTLP_TRACES_HEADERS must not set ${header}: ` +
                "HTTP sets it for each request",
            ),
        );
      }
    });
  }
  await t.step("moot, and not checked, where nothing goes over OTLP", () => {
    assertReads({ OTEL_EXPORTER_OTLP_HEADERS: "api key=secret" }, {});
  });
  await t.step(
    "the general headers, even when every signal has its own",
    () => {
      assert.throws(
        () =>
          read({
            ...OTLP_EVERYWHERE,
            OTEL_EXPORTER_OTLP_HEADERS: "x-a=b%0d%0aInjected:%201",
            OTEL_EXPORTER_OTLP_TRACES_HEADERS: "a=1",
            OTEL_EXPORTER_OTLP_METRICS_HEADERS: "a=1",
            OTEL_EXPORTER_OTLP_LOGS_HEADERS: "a=1",
          }),
        /^ConfigError: OTEL_EXPORTER_OTLP_HEADERS must be/,
      );
    },
  );
});

Deno.test("readConfig() says once that OTEL_LOG_LEVEL and OTEL_CONFIG_FILE are not supported", () => {
  const { warnings } = read({
    OTEL_LOG_LEVEL: "debug",
    OTEL_CONFIG_FILE: "/etc/otel.yaml",
  });
  assert.deepEqual(warnings, [
    `OTEL_LOG_LEVEL is not supported by dice (the SDK's own diagnostics are printed from warn up); ignoring "debug"`,
    `OTEL_CONFIG_FILE is not supported by dice (dice is configured by environment variables only); ignoring "/etc/otel.yaml"`,
  ]);
});

Deno.test("readConfig() says when the OTLP timeout does not fit in DICE_SHUTDOWN_TIMEOUT", () => {
  assert.deepEqual(read({ ...OTLP_EVERYWHERE }).warnings, []);
  assert.deepEqual(
    read({ OTEL_EXPORTER_OTLP_TIMEOUT: "25000" }).warnings,
    [],
    "moot without OTLP",
  );
  assert.deepEqual(
    read({ ...OTLP_EVERYWHERE, OTEL_EXPORTER_OTLP_TIMEOUT: "25000" }).warnings,
    [
      "the OTLP timeout (25000 ms) does not fit in DICE_SHUTDOWN_TIMEOUT (20000 ms) after 5000 ms for open connections; against a collector that does not answer, the shutdown would be cut short: raise DICE_SHUTDOWN_TIMEOUT or lower OTEL_EXPORTER_OTLP_TIMEOUT",
    ],
  );
});

Deno.test("readConfig() says a bad value back quoted, cut, and without credentials", () => {
  const long = "x".repeat(5000);
  const { warnings } = read({ OTEL_BSP_SCHEDULE_DELAY: `soon\n${long}` });
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0].length < 300, warnings[0]);
  assert.ok(!warnings[0].includes("\n"));
  assert.throws(
    () =>
      read({
        ...OTLP_EVERYWHERE,
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://user:secret@127.0.0.1:99999",
      }),
    (error: Error) =>
      error.message.endsWith('got "http://…@127.0.0.1:99999"') &&
      !error.message.includes("secret"),
  );
});

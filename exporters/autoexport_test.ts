import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { DEFAULT_CONFIG, readConfig } from "../internal/config.ts";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { contentTypeOf, otlpSettingsOf } from "./otlp/exporter.ts";
import {
  newExporters,
  newLogRecordExporters,
  newMetricExporters,
  newSpanExporters,
} from "./autoexport.ts";
import { newMetricReaders } from "./metric_readers.ts";
import {
  StdoutLogRecordExporter,
  StdoutMetricExporter,
  StdoutSpanExporter,
} from "./stdout/mod.ts";

Deno.test("newSpanExporters() makes what OTEL_TRACES_EXPORTER names", () => {
  const stdout = {};
  const [console_, proto] = newSpanExporters(
    { ...DEFAULT_CONFIG.traces, exporters: ["console", "otlp"] },
    stdout,
  ).map((accounted) => accounted.exporter);
  assert.ok(console_ instanceof StdoutSpanExporter);
  assert.equal(contentTypeOf(proto), "application/x-protobuf");
  const [json] = newSpanExporters(
    { ...DEFAULT_CONFIG.traces, exporters: ["otlp"], protocol: "http/json" },
    stdout,
  );
  assert.equal(contentTypeOf(json.exporter), "application/json");
  assert.equal(otlpSettingsOf(json.exporter)?.signal, "traces");
  assert.deepEqual(
    newSpanExporters({ ...DEFAULT_CONFIG.traces, exporters: [] }, stdout),
    [],
  );
  assert.ok(
    newMetricExporters(DEFAULT_CONFIG.metrics, stdout)[0] instanceof
      StdoutMetricExporter,
  );
  assert.ok(
    newLogRecordExporters(DEFAULT_CONFIG.logs, stdout)[0].exporter instanceof
      StdoutLogRecordExporter,
  );
});

Deno.test("newSpanExporters() refuses an OTLP endpoint the permissions forbid", () => {
  assert.throws(
    () =>
      newSpanExporters({
        ...DEFAULT_CONFIG.traces,
        exporters: ["otlp"],
        endpoint: "http://collector.invalid:4318/v1/traces",
      }, {}),
    /^Error: the OTLP traces endpoint collector\.invalid:4318 is not in dice's network permissions; add "collector\.invalid:4318" to permissions\.default\.net in deno\.json and run it again$/,
  );
});

// OTLP over https: a self-signed certificate (see testdata/README.md), the
// permissions it needs, and the service as a real process.

const CERT_FILE = fileURLToPath(
  new URL("./testdata/cert.pem", import.meta.url),
);
const KEY_FILE = fileURLToPath(new URL("./testdata/key.pem", import.meta.url));
const REPOSITORY = fileURLToPath(new URL("../", import.meta.url));

/** Runs `body` with the `OTEL_*` variables of `env` set, and unset after. */
function withEnv(env: Record<string, string>, body: () => void): void {
  try {
    for (const [name, value] of Object.entries(env)) Deno.env.set(name, value);
    body();
  } finally {
    for (const name of Object.keys(env)) Deno.env.delete(name);
  }
}

/** The traces as readConfig() reads them from the process environment. */
function tracesFromEnv(endpoint: string) {
  const env: Record<string, string> = {
    OTEL_TRACES_EXPORTER: "otlp",
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint,
  };
  return readConfig((name) => env[name] ?? Deno.env.get(name), () => {})
    .traces;
}

Deno.test("newSpanExporters() refuses a certificate file the permissions forbid, as the OTLP packages choose it", () => {
  // The test permissions read "." only.
  const denied = "/etc/dice-test-ca.pem";
  const https = () => tracesFromEnv("https://127.0.0.1:4318/v1/traces");
  withEnv({ OTEL_EXPORTER_OTLP_CERTIFICATE: denied }, () => {
    assert.throws(
      () => newSpanExporters(https(), {}),
      new Error(
        `OTEL_EXPORTER_OTLP_CERTIFICATE names "${denied}", which dice may not ` +
          `read; run deno run -P --allow-read=${denied} main.ts`,
      ),
    );
  });
  // The signal's own variable wins over the general one, as in the packages.
  withEnv({
    OTEL_EXPORTER_OTLP_CERTIFICATE: denied,
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: CERT_FILE,
  }, () => {
    assert.equal(
      otlpSettingsOf(newSpanExporters(https(), {})[0].exporter)?.signal,
      "traces",
    );
  });
  // A blank one counts as unset; the client certificate and key count too.
  withEnv({
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: " ",
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: "/etc/dice test key.pem",
  }, () => {
    assert.throws(
      () => newSpanExporters(https(), {}),
      new Error(
        'OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY names "/etc/dice test key.pem", ' +
          "which dice may not read; " +
          "run deno run -P --allow-read='/etc/dice test key.pem' main.ts",
      ),
    );
  });
  // Over http the packages still read the file: refused the same way.
  withEnv({ OTEL_EXPORTER_OTLP_CERTIFICATE: denied }, () => {
    assert.throws(
      () => newSpanExporters(tracesFromEnv("http://127.0.0.1:4318"), {}),
      /which dice may not read/,
    );
  });
});

/** What the TLS receiver got: one entry per request. */
interface Received {
  path: string;
  contentType: string | null;
  bytes: number;
}

/** An OTLP/HTTP receiver over TLS on 127.0.0.1, with the test certificate. */
function startTlsReceiver(): {
  url: string;
  received: Received[];
  close(): Promise<void>;
} {
  const received: Received[] = [];
  const server = Deno.serve({
    cert: Deno.readTextFileSync(CERT_FILE),
    key: Deno.readTextFileSync(KEY_FILE),
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, async (request) => {
    const body = await request.arrayBuffer();
    received.push({
      path: `${request.method} ${new URL(request.url).pathname}`,
      contentType: request.headers.get("content-type"),
      bytes: body.byteLength,
    });
    return new Response(null, { status: 200 });
  });
  return {
    url: `https://127.0.0.1:${server.addr.port}`,
    received,
    close: () => server.shutdown(),
  };
}

/**
 * Runs `deno run -P <flags> main.ts` with `env`, as `deno task start` runs
 * the service; once it listens, rolls once and sends SIGTERM. Returns the
 * exit code and stderr.
 */
async function runService(
  flags: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command("deno", {
    args: ["run", "-P", ...flags, "main.ts"],
    cwd: REPOSITORY,
    env: { PORT: "0", NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  let stderr = "";
  const stderrDone = (async () => {
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      stderr += chunk;
    }
  })();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const deadline = Date.now() + 30_000;
  let port: string | undefined;
  while (!exited && Date.now() < deadline) {
    port = /listening on http:\/\/[^ ]+:(\d+)\//.exec(stderr)?.[1];
    if (port !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (port !== undefined) {
    const response = await fetch(`http://127.0.0.1:${port}/rolldice/Alice`);
    assert.equal(response.status, 200, await response.text());
  }
  if (!exited) child.kill("SIGTERM");
  const { code } = await status;
  await Promise.all([stdout, stderrDone]);
  return { code, stderr };
}

/** stderr without Deno's notice about permissions in the config file. */
function ourLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) =>
    line.trim() !== "" && !line.includes("Permissions in the config file")
  );
}

/** Asserts a clean run that delivered all three signals over TLS. */
function assertExportedOverTls(
  result: { code: number; stderr: string },
  received: Received[],
): void {
  assert.equal(result.code, 0, result.stderr);
  // Nothing but the service's own three lines: no permission error, no
  // failed export, no certificate warning, nothing lost.
  assert.doesNotMatch(result.stderr, /Requires \w+ access|NotCapable/);
  const lines = ourLines(result.stderr);
  assert.equal(lines.length, 3, result.stderr);
  assert.match(lines[0], /^dice: listening on http:\/\//);
  assert.match(lines[1], /^dice: SIGTERM: shutting down/);
  assert.match(
    lines[2],
    /^dice: in all: spans to otlp: 2 produced, 2 confirmed, 0 lost; log records to otlp: 1 produced, 1 confirmed, 0 lost; metrics to otlp: 0 exports failed, final collection delivered$/,
  );
  for (const signal of ["traces", "metrics", "logs"]) {
    const requests = received.filter((r) => r.path === `POST /v1/${signal}`);
    assert.ok(requests.length > 0, `no ${signal}: ${JSON.stringify(received)}`);
    for (const request of requests) {
      assert.equal(request.contentType, "application/x-protobuf");
      assert.ok(request.bytes > 0);
    }
  }
}

const ALL_OTLP = {
  OTEL_TRACES_EXPORTER: "otlp",
  OTEL_METRICS_EXPORTER: "otlp",
  OTEL_LOGS_EXPORTER: "otlp",
};

Deno.test("main.ts exports every signal over https with OTEL_EXPORTER_OTLP_CERTIFICATE and the default permissions", async () => {
  const receiver = startTlsReceiver();
  try {
    const result = await runService([`--allow-read=${CERT_FILE}`], {
      ...ALL_OTLP,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_CERTIFICATE: CERT_FILE,
    });
    assertExportedOverTls(result, receiver.received);
  } finally {
    await receiver.close();
  }
});

Deno.test("main.ts exports every signal over https with OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_CERTIFICATE", async () => {
  const receiver = startTlsReceiver();
  try {
    const result = await runService([`--allow-read=${CERT_FILE}`], {
      ...ALL_OTLP,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // Not read: each signal's own variable wins.
      OTEL_EXPORTER_OTLP_CERTIFICATE: "/etc/dice-test-ca.pem",
      OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: CERT_FILE,
      OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: CERT_FILE,
      OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: CERT_FILE,
    });
    assertExportedOverTls(result, receiver.received);
  } finally {
    await receiver.close();
  }
});

// Without a certificate variable, Deno's node:https loads its root
// certificates as NODE_EXTRA_CA_CERTS asks, which takes sys "ca" and env
// NODE_USE_SYSTEM_CA: without them every export failed.
Deno.test("main.ts exports every signal over https with NODE_EXTRA_CA_CERTS and the default permissions", async () => {
  const receiver = startTlsReceiver();
  try {
    const result = await runService([], {
      ...ALL_OTLP,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      NODE_EXTRA_CA_CERTS: CERT_FILE,
    });
    assertExportedOverTls(result, receiver.received);
  } finally {
    await receiver.close();
  }
});

Deno.test("main.ts refuses a certificate file it may not read, in one line", async (t) => {
  for (
    const [name, env] of [
      ["OTEL_EXPORTER_OTLP_CERTIFICATE", ALL_OTLP],
      ["OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", { OTEL_LOGS_EXPORTER: "otlp" }],
    ] as const
  ) {
    await t.step(name, async () => {
      const { code, stderr } = await runService([], {
        ...env,
        // Nothing listens there: the service must stop before any export.
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://127.0.0.1:9",
        [name]: CERT_FILE,
      });
      assert.equal(code, 1, stderr);
      assert.deepEqual(ourLines(stderr), [
        `dice: cannot set up OpenTelemetry: ${name} names "${CERT_FILE}", ` +
        `which dice may not read; ` +
        `run deno run -P --allow-read=${CERT_FILE} main.ts`,
      ]);
    });
  }
});

Deno.test("newSpanExporters() and its siblings give the OTLP exporters dice's checked timeout", () => {
  // The packages would read OTEL_EXPORTER_OTLP_TIMEOUT again themselves and
  // take "1e3" or 3000000000 as they come.
  const timeoutOf = (exporter: unknown) =>
    otlpSettingsOf(exporter)?.timeoutMillis;
  const otlp = { exporters: ["otlp"] as ["otlp"], timeoutMillis: 1234 };
  const [span] = newSpanExporters({ ...DEFAULT_CONFIG.traces, ...otlp }, {});
  const [metric] = newMetricExporters(
    { ...DEFAULT_CONFIG.metrics, ...otlp },
    {},
  );
  const [log] = newLogRecordExporters({ ...DEFAULT_CONFIG.logs, ...otlp }, {});
  assert.equal(timeoutOf(span.exporter), 1234);
  assert.equal(timeoutOf(metric), 1234);
  assert.equal(timeoutOf(log.exporter), 1234);
  // No longer than the processor or the reader waits for an export.
  const [shorter] = newSpanExporters(
    { ...DEFAULT_CONFIG.traces, ...otlp },
    {},
    { bsp: { ...DEFAULT_CONFIG.bsp, exportTimeoutMillis: 1000 } },
  );
  assert.equal(timeoutOf(shorter.exporter), 1000);
  const [metricShorter] = newMetricExporters(
    { ...DEFAULT_CONFIG.metrics, ...otlp },
    {},
    { metricExportTimeoutMillis: 900 },
  );
  assert.equal(timeoutOf(metricShorter), 900);
});

Deno.test("newMetricReaders() pushes to each exporter, and lets Prometheus pull", async (t) => {
  const port = (() => {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return listener.addr.port;
  })();
  const config = {
    ...DEFAULT_CONFIG,
    metrics: {
      ...DEFAULT_CONFIG.metrics,
      exporters: ["console", "prometheus"] as ["console", "prometheus"],
    },
    prometheus: { host: "127.0.0.1", port },
  };
  await t.step("console pushed, prometheus pulled", async () => {
    const exporters = newMetricExporters(config.metrics, {});
    assert.equal(exporters.length, 1);
    assert.ok(exporters[0] instanceof StdoutMetricExporter);
    const readers = await newMetricReaders(exporters, config);
    assert.equal(readers.length, 2);
    assert.ok(readers[0] instanceof PeriodicExportingMetricReader);
    assert.ok(readers[1] instanceof PrometheusExporter);
    await Promise.all(readers.map((reader) => reader.shutdown()));
  });
  await t.step("the defaults: one push reader, nothing listens", async () => {
    const readers = await newExporters(DEFAULT_CONFIG, {})
      .metricReaders();
    assert.equal(readers.length, 1);
    assert.ok(readers[0] instanceof PeriodicExportingMetricReader);
  });
  await t.step("an exporter given replaces Prometheus too", async () => {
    const given = new StdoutMetricExporter({});
    const readers = await newExporters(config, {}, {
      metricExporter: given,
    }).metricReaders();
    assert.equal(readers.length, 1);
    assert.ok(readers[0] instanceof PeriodicExportingMetricReader);
  });
});

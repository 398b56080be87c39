import assert from "node:assert/strict";
import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { ATTR_ERROR_TYPE } from "@opentelemetry/semantic-conventions";
import { newFetch, OTELHTTP_SCOPE_NAME, redactedUrl } from "./mod.ts";
import { setupInMemorySDK, type TestSDK } from "../internal/testing.ts";

/** Sets up the SDK, runs `calls`, shuts the SDK down (which flushes) and returns it. */
async function afterRequests(calls: () => Promise<void>): Promise<TestSDK> {
  const sdk = setupInMemorySDK();
  try {
    await calls();
  } finally {
    await sdk.shutdown();
  }
  return sdk;
}

Deno.test("newFetch() makes one CLIENT span per call and sends its context", async (t) => {
  const sent: Request[] = [];
  function fakeServer(request: Request): Promise<Response> {
    sent.push(request);
    const status = new URL(request.url).pathname === "/missing" ? 404 : 200;
    return Promise.resolve(new Response("ok", { status }));
  }
  let parentSpanId = "";
  let failure: unknown;
  const sdk = await afterRequests(async () => {
    const otelFetch = newFetch(fakeServer);
    const baggage = propagation.setBaggage(
      ROOT_CONTEXT,
      propagation.createBaggage({ player: { value: "Alice" } }),
    );
    await trace.getTracer("test").startActiveSpan(
      "parent",
      {},
      baggage,
      async (parent) => {
        parentSpanId = parent.spanContext().spanId;
        await otelFetch(
          "http://user:secret@backend.test:9000/roll?sig=abc&n=1",
        );
        await otelFetch(
          new Request("https://backend.test/missing", {
            method: "POST",
            body: "x",
          }),
        );
        parent.end();
      },
    );
    const failing = newFetch(() =>
      Promise.reject(new TypeError("connection refused"))
    );
    failure = await failing("http://down.test/").catch((error) => error);
  });
  const clients = sdk.spans().filter((span) => span.kind === SpanKind.CLIENT);

  await t.step(
    "named by method, with the client attributes, url.full redacted",
    () => {
      assert.deepEqual(clients.map((span) => span.name), [
        "GET",
        "POST",
        "GET",
      ]);
      assert.deepEqual(clients[0].attributes, {
        "http.request.method": "GET",
        "server.address": "backend.test",
        "server.port": 9000,
        "url.full":
          "http://REDACTED:REDACTED@backend.test:9000/roll?sig=REDACTED&n=1",
        "http.response.status_code": 200,
      });
      assert.equal(clients[1].attributes["server.port"], 443);
      assert.equal(clients[0].instrumentationScope.name, OTELHTTP_SCOPE_NAME);
    },
  );

  await t.step("each a child of the active span, each with its own id", () => {
    assert.equal(clients[0].parentSpanContext?.spanId, parentSpanId);
    assert.equal(clients[1].parentSpanContext?.spanId, parentSpanId);
    assert.notEqual(
      clients[0].spanContext().spanId,
      clients[1].spanContext().spanId,
    );
  });

  await t.step(
    "sends traceparent with the client span's id, and the baggage",
    () => {
      for (const [i, request] of sent.entries()) {
        const { traceId, spanId } = clients[i].spanContext();
        assert.match(
          request.headers.get("traceparent")!,
          new RegExp(`^00-${traceId}-${spanId}-0[13]$`),
        );
        assert.equal(request.headers.get("baggage"), "player=Alice");
      }
    },
  );

  await t.step("marks 4xx as an error, as a client must", () => {
    assert.equal(clients[1].status.code, SpanStatusCode.ERROR);
    assert.equal(clients[1].attributes[ATTR_ERROR_TYPE], "404");
    assert.equal(clients[0].status.code, SpanStatusCode.UNSET);
  });

  await t.step(
    "ends the span of a failed call, records why, and rethrows",
    () => {
      assert.ok(failure instanceof TypeError);
      assert.equal(clients[2].status.code, SpanStatusCode.ERROR);
      assert.equal(clients[2].attributes[ATTR_ERROR_TYPE], "TypeError");
      assert.equal(clients[2].events[0].name, "exception");
      assert.equal(
        clients[2].attributes["http.response.status_code"],
        undefined,
      );
    },
  );

  await t.step(
    "records http.client.request.duration by method, server and status",
    () => {
      const duration = sdk.metric("http.client.request.duration");
      assert.equal(duration?.descriptor.unit, "s");
      assert.deepEqual(duration?.dataPoints.map((point) => point.attributes), [
        {
          "http.request.method": "GET",
          "server.address": "backend.test",
          "server.port": 9000,
          "http.response.status_code": 200,
        },
        {
          "http.request.method": "POST",
          "server.address": "backend.test",
          "server.port": 443,
          "http.response.status_code": 404,
          "error.type": "404",
        },
        {
          "http.request.method": "GET",
          "server.address": "down.test",
          "server.port": 80,
          "error.type": "TypeError",
        },
      ]);
    },
  );
});

Deno.test("redactedUrl() hides credentials and signatures only", () => {
  const cases: Array<[string, string]> = [
    ["https://example.com/a?b=1#c", "https://example.com/a?b=1#c"],
    ["https://u:p@example.com/", "https://REDACTED:REDACTED@example.com/"],
    ["https://u@example.com/", "https://REDACTED:REDACTED@example.com/"],
    [
      "https://s3.test/o?AWSAccessKeyId=K&Signature=S&X-Goog-Signature=G&sig=x&keep=1",
      "https://s3.test/o?AWSAccessKeyId=REDACTED&Signature=REDACTED&X-Goog-Signature=REDACTED&sig=REDACTED&keep=1",
    ],
  ];
  for (const [input, expected] of cases) {
    assert.equal(redactedUrl(new URL(input)), expected);
  }
});

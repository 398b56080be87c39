/**
 * The W3C Trace Context test suite's cases, written as table tests from the
 * specification's text: each request goes into the conformance service with
 * some headers, and the service's call out, through the instrumented fetch,
 * must carry what the specification says.
 */

import assert from "node:assert/strict";
import { newConformanceHandler } from "./main.ts";
import { setupTestSDK, TEST_INFO } from "../../testing.ts";

const TRACE_ID = "12345678901234567890123456789012";
const PARENT_ID = "1234567890123456";
const TP = (flags = "00") => `00-${TRACE_ID}-${PARENT_ID}-${flags}`;

interface Sent {
  traceparent: string;
  tracestate: string | null;
  traceId: string;
  parentId: string;
  flags: number;
}

type Case = [
  name: string,
  headers: Array<[string, string]>,
  check: (sent: Sent) => void,
];

const inherits = (sent: Sent) => {
  assert.equal(sent.traceId, TRACE_ID);
  assert.notEqual(sent.parentId, PARENT_ID);
};
const restarts = (sent: Sent) => assert.notEqual(sent.traceId, TRACE_ID);
const state = (expected: string | null) => (sent: Sent) => {
  inherits(sent);
  assert.equal(sent.tracestate, expected);
};

const CASES: Case[] = [
  ["both traceparent and tracestate missing", [], () => {}],
  [
    "traceparent included, tracestate missing",
    [["traceparent", TP("01")]],
    state(null),
  ],
  ["traceparent duplicated", [["traceparent", TP()], [
    "traceparent",
    TP().replace("012-", "011-"),
  ]], restarts],
  [
    "traceparent header name with another casing",
    [["TraceParent", TP()]],
    inherits,
  ],
  ["traceparent header name misspelt", [["trace-parent", TP()]], restarts],
  ["traceparent version 0x00", [["traceparent", `${TP()}.`]], restarts],
  ["traceparent version 0x00 with a fifth field", [[
    "traceparent",
    `${TP()}-what-the-future-will-be-like`,
  ]], restarts],
  ["traceparent version 0xcc", [[
    "traceparent",
    `cc-${TRACE_ID}-${PARENT_ID}-00-what-the-future-will-be-like`,
  ]], inherits],
  ["traceparent version 0xcc without a dash after flags", [[
    "traceparent",
    `cc-${TRACE_ID}-${PARENT_ID}-00.`,
  ]], restarts],
  ["traceparent version 0xff", [[
    "traceparent",
    `ff-${TRACE_ID}-${PARENT_ID}-01`,
  ]], restarts],
  ["traceparent version illegal characters", [[
    "traceparent",
    `.0-${TRACE_ID}-${PARENT_ID}-01`,
  ]], restarts],
  ["traceparent version too long", [[
    "traceparent",
    `000-${TRACE_ID}-${PARENT_ID}-01`,
  ]], restarts],
  ["traceparent version too short", [[
    "traceparent",
    `0-${TRACE_ID}-${PARENT_ID}-01`,
  ]], restarts],
  ["traceparent trace-id all zero", [[
    "traceparent",
    `00-${"0".repeat(32)}-${PARENT_ID}-01`,
  ]], (sent) => {
    assert.notEqual(sent.traceId, "0".repeat(32));
  }],
  ["traceparent trace-id illegal characters", [[
    "traceparent",
    `00-${TRACE_ID.replace("1", ".")}-${PARENT_ID}-01`,
  ]], restarts],
  ["traceparent trace-id upper case", [[
    "traceparent",
    `00-${TRACE_ID.replace("1", "A")}-${PARENT_ID}-01`,
  ]], restarts],
  ["traceparent trace-id too long", [[
    "traceparent",
    `00-${TRACE_ID}0-${PARENT_ID}-01`,
  ]], restarts],
  ["traceparent trace-id too short", [[
    "traceparent",
    `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`,
  ]], restarts],
  ["traceparent parent-id all zero", [[
    "traceparent",
    `00-${TRACE_ID}-${"0".repeat(16)}-01`,
  ]], restarts],
  ["traceparent parent-id illegal characters", [[
    "traceparent",
    `00-${TRACE_ID}-${PARENT_ID.replace("1", ".")}-01`,
  ]], restarts],
  ["traceparent parent-id too long", [[
    "traceparent",
    `00-${TRACE_ID}-${PARENT_ID}0-01`,
  ]], restarts],
  ["traceparent parent-id too short", [[
    "traceparent",
    `00-${TRACE_ID}-${PARENT_ID.slice(1)}-01`,
  ]], restarts],
  ["traceparent trace-flags illegal characters", [[
    "traceparent",
    `00-${TRACE_ID}-${PARENT_ID}-.0`,
  ]], restarts],
  ["traceparent trace-flags too long", [["traceparent", `${TP()}0`]], restarts],
  [
    "traceparent trace-flags too short",
    [["traceparent", TP().slice(0, -1)]],
    restarts,
  ],
  ["traceparent with leading and trailing OWS", [[
    "traceparent",
    `\t ${TP()} \t`,
  ]], inherits],
  ["tracestate without traceparent is discarded", [[
    "tracestate",
    "foo=1,bar=2",
  ]], (sent) => {
    assert.equal(sent.tracestate, null);
  }],
  ["tracestate with traceparent is inherited", [["traceparent", TP()], [
    "tracestate",
    "foo=1,bar=2",
  ]], state("foo=1,bar=2")],
  ["tracestate header name misspelt", [["traceparent", TP()], [
    "trace-state",
    "foo=1",
  ]], state(null)],
  ["tracestate header name with another casing", [["traceparent", TP()], [
    "TrAcEsTaTe",
    "foo=1",
  ]], state("foo=1")],
  ["empty tracestate is not sent on", [["traceparent", TP()], [
    "tracestate",
    "",
  ]], state(null)],
  ["empty tracestate field beside another", [["traceparent", TP()], [
    "tracestate",
    "foo=1",
  ], ["tracestate", ""]], state("foo=1")],
  ["multiple tracestate fields are combined in order", [
    ["traceparent", TP()],
    ["tracestate", "foo=1,bar=2"],
    ["tracestate", "rojo=1,congo=2"],
    ["tracestate", "baz=3"],
  ], state("foo=1,bar=2,rojo=1,congo=2,baz=3")],
  ["duplicated tracestate keys keep one", [["traceparent", TP()], [
    "tracestate",
    "foo=1",
  ], ["tracestate", "foo=2"]], state("foo=1")],
  ["tracestate with every allowed character", [
    ["traceparent", TP()],
    [
      "tracestate",
      "abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/=!\"#$%&'()*+-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    ],
  ], (sent) => {
    inherits(sent);
    assert.ok(
      sent.tracestate?.startsWith(
        "abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/=!",
      ),
    );
  }],
  ["tracestate OWS is dropped", [["traceparent", TP()], [
    "tracestate",
    "foo=1 \t , \t bar=2, \t baz=3",
  ]], state("foo=1,bar=2,baz=3")],
  ["tracestate key with illegal characters discards it", [
    ["traceparent", TP()],
    ["tracestate", "foo=1,BAR=2"],
  ], state(null)],
  ["tracestate keys with at signs", [["traceparent", TP()], [
    "tracestate",
    "foo@=1,foo@@bar=2,bar=3",
  ]], state("foo@=1,foo@@bar=2,bar=3")],
  ["tracestate key starting with an at sign discards it", [[
    "traceparent",
    TP(),
  ], ["tracestate", "@foo=1,bar=2"]], state(null)],
  ["tracestate with 32 members", [
    ["traceparent", TP()],
    [
      "tracestate",
      Array.from({ length: 32 }, (_, i) => `bar${i}=${i}`).join(","),
    ],
  ], (sent) => assert.equal(sent.tracestate?.split(",").length, 32)],
  ["tracestate with 33 members is discarded", [
    ["traceparent", TP()],
    [
      "tracestate",
      Array.from({ length: 33 }, (_, i) => `bar${i}=${i}`).join(","),
    ],
  ], state(null)],
  [
    "tracestate key of 256 characters",
    [["traceparent", TP()], ["tracestate", `foo=1,${"z".repeat(256)}=1`]],
    state(
      `foo=1,${"z".repeat(256)}=1`,
    ),
  ],
  [
    "tracestate key of 257 characters discards it",
    [["traceparent", TP()], ["tracestate", `foo=1,${"z".repeat(257)}=1`]],
    state(
      null,
    ),
  ],
  ["tracestate value with = discards it", [["traceparent", TP()], [
    "tracestate",
    "foo=bar=baz",
  ]], state(null)],
  ["tracestate empty value discards it", [["traceparent", TP()], [
    "tracestate",
    "foo=,bar=3",
  ]], state(null)],
  [
    "random flag is propagated (Level 2)",
    [["traceparent", TP("02")]],
    (sent) => {
      inherits(sent);
      assert.equal(sent.flags & 0x02, 0x02);
    },
  ],
  [
    "a trace started here sets the random flag (Level 2)",
    [],
    (sent) => assert.equal(sent.flags & 0x02, 0x02),
  ],
];

Deno.test("the conformance service passes the W3C Trace Context cases", async (t) => {
  const sdk = await setupTestSDK();
  const received: Headers[] = [];
  const harness = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      received.push(request.headers);
      return new Response("ok");
    },
  );
  const handler = newConformanceHandler();

  async function callOut(
    headers: Array<[string, string]>,
    times = 1,
  ): Promise<Sent[]> {
    received.length = 0;
    const calls = Array.from({ length: times }, () => ({
      url: `http://127.0.0.1:${harness.addr.port}/callback`,
      arguments: [],
    }));
    const response = await handler(
      new Request("http://127.0.0.1/test", {
        method: "POST",
        headers: new Headers(headers),
        body: JSON.stringify(calls),
      }),
      TEST_INFO,
    );
    assert.equal(response.status, 200, await response.text());
    return received.map((sent) => {
      const traceparent = sent.get("traceparent")!;
      const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(
        traceparent,
      );
      assert.ok(match, `not a valid traceparent: ${traceparent}`);
      return {
        traceparent,
        tracestate: sent.get("tracestate"),
        traceId: match[1],
        parentId: match[2],
        flags: parseInt(match[3], 16),
      };
    });
  }

  try {
    for (const [name, headers, check] of CASES) {
      await t.step(name, async () => {
        const [sent] = await callOut(headers);
        check(sent);
      });
    }
    await t.step(
      "multiple calls with a valid traceparent share its trace, each with its own parent-id",
      async () => {
        const sent = await callOut([["traceparent", TP("01")]], 3);
        assert.deepEqual(
          new Set(sent.map((s) => s.traceId)),
          new Set([TRACE_ID]),
        );
        assert.equal(new Set(sent.map((s) => s.parentId)).size, 3);
      },
    );
    await t.step(
      "multiple calls without traceparent get distinct parent-ids",
      async () => {
        const sent = await callOut([], 3);
        assert.equal(new Set(sent.map((s) => s.parentId)).size, 3);
      },
    );
    await t.step(
      "multiple calls with an illegal traceparent get a new trace",
      async () => {
        const sent = await callOut([[
          "traceparent",
          `00-${"0".repeat(32)}-${PARENT_ID}-01`,
        ]], 3);
        assert.ok(sent.every((s) => s.traceId !== "0".repeat(32)));
        assert.equal(new Set(sent.map((s) => s.parentId)).size, 3);
      },
    );
  } finally {
    await harness.shutdown();
    await sdk.shutdown();
  }
});

Deno.test("the conformance service refuses what is not a list of calls", async () => {
  const sdk = await setupTestSDK();
  try {
    const handler = newConformanceHandler(() =>
      Promise.reject(new Error("must not be called"))
    );
    for (const body of ["{}", '[{"url": 1}]', "not json"]) {
      const response = await handler(
        new Request("http://127.0.0.1/test", { method: "POST", body }),
        TEST_INFO,
      );
      assert.equal(response.status, 400, body);
      await response.body?.cancel();
    }
    const get = await handler(new Request("http://127.0.0.1/test"), TEST_INFO);
    assert.equal(get.status, 405);
    await get.body?.cancel();
  } finally {
    await sdk.shutdown();
  }
});

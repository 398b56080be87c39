import assert from "node:assert/strict";
import fc from "fast-check";
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import {
  parseTraceState,
  RANDOM_TRACE_ID_FLAG,
  W3CTraceContextPropagator,
} from "./mod.ts";

const TRACE_ID = "12345678901234567890123456789012";
const PARENT_ID = "1234567890123456";
const VALID = `00-${TRACE_ID}-${PARENT_ID}-01`;

// The API's default getter and setter read and write a plain object's keys,
// and a list of values stands for a header sent more than once.
const getter = defaultTextMapGetter;
const setter = defaultTextMapSetter;

function extract(headers: Record<string, string | string[]>) {
  const context = new W3CTraceContextPropagator().extract(
    ROOT_CONTEXT,
    headers,
    getter,
  );
  return { context, spanContext: trace.getSpanContext(context) };
}

Deno.test("W3CTraceContextPropagator reads a valid traceparent as a remote parent", () => {
  const { spanContext } = extract({ traceparent: VALID });
  assert.deepEqual(spanContext, {
    traceId: TRACE_ID,
    spanId: PARENT_ID,
    traceFlags: 1,
    isRemote: true,
    traceState: undefined,
  });
});

Deno.test("W3CTraceContextPropagator starts afresh on a malformed traceparent", async (t) => {
  // Each from the traceparent section of W3C Trace Context Level 2.
  const cases: Record<string, string | string[]> = {
    "version ff is invalid": `ff-${TRACE_ID}-${PARENT_ID}-01`,
    "version with a non-hex character": `0g-${TRACE_ID}-${PARENT_ID}-01`,
    "version too short": `0-${TRACE_ID}-${PARENT_ID}-01`,
    "version too long": `000-${TRACE_ID}-${PARENT_ID}-01`,
    "all-zero trace-id": `00-${"0".repeat(32)}-${PARENT_ID}-01`,
    "trace-id too short": `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`,
    "trace-id too long": `00-${TRACE_ID}0-${PARENT_ID}-01`,
    "upper-case hex is not lowercase hex": `00-${
      TRACE_ID.replace("1", "A")
    }-${PARENT_ID}-01`,
    "all-zero parent-id": `00-${TRACE_ID}-${"0".repeat(16)}-01`,
    "parent-id with a non-hex character": `00-${TRACE_ID}-${
      PARENT_ID.replace("1", "x")
    }-01`,
    "trace-flags too short": `00-${TRACE_ID}-${PARENT_ID}-1`,
    "trace-flags too long": `00-${TRACE_ID}-${PARENT_ID}-011`,
    "version 00 with a fifth field":
      `${VALID}-what-the-future-will-not-be-like`,
    "two traceparent fields": [VALID, VALID],
    "two traceparent values joined": `${VALID}, ${VALID}`,
    "empty": "",
  };
  for (const [name, traceparent] of Object.entries(cases)) {
    await t.step(name, () => {
      const { spanContext, context } = extract({
        traceparent,
        tracestate: "foo=1",
      });
      assert.equal(spanContext, undefined);
      // A trace started here has a random trace ID, and says so downstream.
      const span = trace.wrapSpanContext({
        traceId: "a".repeat(32),
        spanId: "b".repeat(16),
        traceFlags: 1,
      });
      const carrier: Record<string, string> = {};
      new W3CTraceContextPropagator().inject(
        trace.setSpan(context, span),
        carrier,
        setter,
      );
      assert.equal(
        carrier.traceparent,
        `00-${"a".repeat(32)}-${"b".repeat(16)}-03`,
      );
    });
  }
});

Deno.test("W3CTraceContextPropagator parses a higher version as version 00 says", () => {
  const future = `cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-will-be-like`;
  assert.equal(extract({ traceparent: future }).spanContext?.traceId, TRACE_ID);
  assert.equal(
    extract({ traceparent: `cc-${TRACE_ID}-${PARENT_ID}-01.` }).spanContext,
    undefined,
  );
});

Deno.test("W3CTraceContextPropagator propagates the random-trace-id flag (Level 2)", async (t) => {
  for (
    const [incoming, outgoing] of [["02", "03"], ["03", "03"], ["01", "01"], [
      "00",
      "01",
    ]]
  ) {
    await t.step(`${incoming} in, ${outgoing} out for a sampled child`, () => {
      const { context } = extract({
        traceparent: `00-${TRACE_ID}-${PARENT_ID}-${incoming}`,
      });
      const child = trace.wrapSpanContext({
        traceId: TRACE_ID,
        spanId: "c".repeat(16),
        traceFlags: 1,
      });
      const carrier: Record<string, string> = {};
      new W3CTraceContextPropagator().inject(
        trace.setSpan(context, child),
        carrier,
        setter,
      );
      assert.equal(
        carrier.traceparent,
        `00-${TRACE_ID}-${"c".repeat(16)}-${outgoing}`,
      );
    });
  }
  await t.step("flags this version does not define go out as 0", () => {
    const span = trace.wrapSpanContext({
      traceId: TRACE_ID,
      spanId: "c".repeat(16),
      traceFlags: 0xff,
    });
    const carrier: Record<string, string> = {};
    new W3CTraceContextPropagator().inject(
      trace.setSpan(ROOT_CONTEXT, span),
      carrier,
      setter,
    );
    assert.equal(carrier.traceparent.slice(-2), "01");
    assert.equal(RANDOM_TRACE_ID_FLAG | TraceFlags.SAMPLED, 3);
  });
});

Deno.test("parseTraceState() takes a valid header whole", async (t) => {
  const lcalpha = "abcdefghijklmnopqrstuvwxyz";
  const keychars = `${lcalpha}0123456789_-*/`;
  const allValueChars = Array.from(
    { length: 0x7e - 0x20 + 1 },
    (_, i) => String.fromCharCode(0x20 + i),
  )
    .filter((char) => char !== "," && char !== "=").join("");
  const cases: Array<[string, string, Array<[string, string]>]> = [
    ["one member", "rojo=00f067aa0ba902b7", [["rojo", "00f067aa0ba902b7"]]],
    ["two, in order", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", [[
      "rojo",
      "00f067aa0ba902b7",
    ], [
      "congo",
      "t61rcWkgMzE",
    ]]],
    ["optional white space around members", "foo=1 \t , \t bar=2, \t baz=3", [
      ["foo", "1"],
      ["bar", "2"],
      [
        "baz",
        "3",
      ],
    ]],
    ["empty and blank members", "foo=1,, ,\t,bar=2", [["foo", "1"], [
      "bar",
      "2",
    ]]],
    [
      "every key and value character",
      `${keychars}=${allValueChars.trimStart()}`,
      [[
        keychars,
        allValueChars.trimStart(),
      ]],
    ],
    ["a leading space in a value is kept", "foo= 1", [["foo", " 1"]]],
    ["keys with at signs", "foo@=1,foo@@bar=2,foo@bar@baz=3,0vendor@x=4", [
      ["foo@", "1"],
      ["foo@@bar", "2"],
      [
        "foo@bar@baz",
        "3",
      ],
      ["0vendor@x", "4"],
    ]],
    ["a 256-character key", `${"z".repeat(256)}=1`, [["z".repeat(256), "1"]]],
    ["a 256-character value", `foo=${"v".repeat(256)}`, [[
      "foo",
      "v".repeat(256),
    ]]],
    ["duplicate keys keep the first", "foo=1,foo=2", [["foo", "1"]]],
  ];
  for (const [name, header, members] of cases) {
    await t.step(name, () => {
      const state = parseTraceState(header);
      assert.ok(state, "discarded");
      for (const [key, value] of members) {
        assert.equal(state.get(key), value, key);
      }
      assert.equal(
        state.serialize(),
        members.map(([k, v]) => `${k}=${v}`).join(","),
      );
    });
  }
  await t.step("32 members", () => {
    const header = Array.from({ length: 32 }, (_, i) => `bar${i}=${i}`).join(
      ",",
    );
    assert.equal(parseTraceState(header)?.serialize(), header);
  });
  await t.step(
    "an empty header",
    () => assert.equal(parseTraceState("")?.serialize(), ""),
  );
});

Deno.test("parseTraceState() discards a header with any invalid member", async (t) => {
  const cases: Record<string, string> = {
    "a key starting with @": "@foo=1,bar=2",
    "an upper-case key": "Foo=1,bar=2",
    "a key with a dot": "foo.bar=1",
    "a 257-character key": `foo=1,${"z".repeat(257)}=1`,
    "a key with white space before =": "foo =1",
    "an empty value": "foo=,bar=3",
    "= in a value": "foo=bar=baz",
    "a control character in a value": "foo=1\u0001,bar=2",
    "a tab in a value": "foo=a\tb",
    "a non-ASCII value": "foo=é",
    "a 257-character value": `foo=${"v".repeat(257)}`,
    "a member without =": "foo,bar=2",
    "33 members": Array.from({ length: 33 }, (_, i) => `bar${i}=${i}`).join(
      ",",
    ),
  };
  for (const [name, header] of Object.entries(cases)) {
    await t.step(name, () => assert.equal(parseTraceState(header), undefined));
  }
});

Deno.test("parseTraceState() cuts a header over 512 characters by whole members", () => {
  const big = `big=${"x".repeat(200)}`; // over 128: removed first
  const small = Array.from(
    { length: 20 },
    (_, i) => `k${String(i).padStart(2, "0")}=${"v".repeat(20)}`,
  );
  const state = parseTraceState([small[0], big, ...small.slice(1)].join(","));
  assert.ok(state);
  assert.equal(state.get("big"), undefined);
  assert.equal(state.serialize(), small.join(","));
  const many = Array.from(
    { length: 30 },
    (_, i) => `k${String(i).padStart(2, "0")}=${"v".repeat(20)}`,
  );
  const cut = parseTraceState(many.join(","))!.serialize();
  assert.ok(cut.length <= 512);
  assert.ok(many.join(",").startsWith(cut), "removed from the right");
});

Deno.test("W3CTraceContextPropagator keeps tracestate with its traceparent only", () => {
  assert.equal(extract({ tracestate: "foo=1" }).spanContext, undefined);
  const { spanContext } = extract({
    traceparent: VALID,
    tracestate: ["foo=1", "bar=2"],
  });
  assert.equal(spanContext?.traceState?.serialize(), "foo=1,bar=2");
  const carrier: Record<string, string> = {};
  const child = trace.wrapSpanContext({
    ...spanContext!,
    spanId: "d".repeat(16),
    isRemote: false,
  });
  new W3CTraceContextPropagator().inject(
    trace.setSpan(ROOT_CONTEXT, child),
    carrier,
    setter,
  );
  assert.equal(carrier.tracestate, "foo=1,bar=2");
  assert.equal(
    extract({ traceparent: VALID, tracestate: "" }).spanContext?.traceState
      ?.serialize(),
    "",
  );
});

Deno.test("TraceState.set() moves the key to the front, unset() removes it", () => {
  const state = parseTraceState("a=1,b=2,c=3")!;
  assert.equal(state.set("c", "9").serialize(), "c=9,a=1,b=2");
  assert.equal(state.set("new", "x").serialize(), "new=x,a=1,b=2,c=3");
  assert.equal(state.set("Bad", "x"), state);
  assert.equal(state.unset("b").serialize(), "a=1,c=3");
  assert.equal(state.serialize(), "a=1,b=2,c=3", "immutable");
});

Deno.test("parseTraceState() output is always valid, bounded and stable (property)", () => {
  const member = fc.tuple(
    fc.string({
      unit: fc.constantFrom(..."abz09_-*/@A. "),
      minLength: 0,
      maxLength: 8,
    }),
    fc.string({
      unit: fc.constantFrom(..."abz09 !~=,\t"),
      minLength: 0,
      maxLength: 8,
    }),
  ).map(([key, value]) => `${key}=${value}`);
  fc.assert(
    fc.property(
      fc.array(fc.oneof(member, fc.string()), { maxLength: 40 }),
      (members) => {
        const state = parseTraceState(members.join(","));
        if (!state) return;
        const text = state.serialize();
        assert.ok(text.length <= 512);
        assert.ok(text === "" || text.split(",").length <= 32);
        assert.equal(
          parseTraceState(text)?.serialize(),
          text,
          "parses back to itself",
        );
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("W3CTraceContextPropagator reads exactly the valid traceparents (property)", () => {
  const hex = (length: number) =>
    fc.string({
      unit: fc.constantFrom(..."0123456789abcdef"),
      minLength: length,
      maxLength: length,
    });
  fc.assert(
    fc.property(
      hex(32),
      hex(16),
      hex(2),
      fc.string({ maxLength: 60 }),
      (traceId, spanId, flags, junk) => {
        const valid = /[1-9a-f]/.test(traceId) && /[1-9a-f]/.test(spanId);
        const { spanContext } = extract({
          traceparent: `00-${traceId}-${spanId}-${flags}`,
        });
        assert.equal(spanContext?.traceId, valid ? traceId : undefined);
        // Anything else either parses to a valid context or to nothing at all.
        const other = extract({ traceparent: junk }).spanContext;
        assert.ok(other === undefined || trace.isSpanContextValid(other));
      },
    ),
    { numRuns: 500 },
  );
});

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
} from "@opentelemetry/api";
import { parseBaggage, serializeBaggage, W3CBaggagePropagator } from "./mod.ts";

// The API's default getter and setter read and write a plain object's keys,
// and a list of values stands for a header sent more than once.
const getter = defaultTextMapGetter;
const setter = defaultTextMapSetter;

Deno.test("parseBaggage() follows the W3C Baggage grammar", async (t) => {
  const cases: Array<[string, string, Array<[string, string, string?]>]> = [
    ["one member", "userId=alice", [["userId", "alice"]]],
    ["OWS around members, keys and values", " a = 1 ,\tb\t=\t2 ", [["a", "1"], [
      "b",
      "2",
    ]]],
    ["percent-decoding", "name=J%C3%BCrgen%20M%2C%3D", [[
      "name",
      "Jürgen M,=",
    ]]],
    ["= inside a value", "k=a=b", [["k", "a=b"]]],
    ["an empty value", "k=", [["k", ""]]],
    ["properties", "k=v;p1;p2=x", [["k", "v", "p1;p2=x"]]],
    ["properties with OWS", "k=v ; p1 = x ", [["k", "v", "p1 = x"]]],
    ["invalid UTF-8 becomes U+FFFD", "k=%FF%FEok", [["k", "\ufffd\ufffdok"]]],
    ["token characters in keys", "!#$%&'*+-.^_`|~=1", [[
      "!#$%&'*+-.^_`|~",
      "1",
    ]]],
    ["a member with a space in its key is skipped", "a b=1,c=2", [["c", "2"]]],
    ["a member with a quote in its value is skipped", 'a="x",c=2', [[
      "c",
      "2",
    ]]],
    ["a member without = is skipped", "flag,c=2", [["c", "2"]]],
    ["a member with an invalid property is skipped", "a=1;p q,c=2", [[
      "c",
      "2",
    ]]],
    ["duplicate keys: the last wins when read into baggage", "k=1,k=2", [[
      "k",
      "1",
    ], ["k", "2"]]],
  ];
  for (const [name, header, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(
        parseBaggage(header).map((
          [key, entry],
        ) => [key, entry.value, entry.metadata?.toString()]),
        expected.map(([key, value, metadata]) => [key, value, metadata]),
      );
    });
  }
});

Deno.test("parseBaggage() drops whole members past the limits", () => {
  const many = Array.from({ length: 200 }, (_, i) => `k${i}=${i}`).join(",");
  assert.equal(parseBaggage(many).length, 180);
  const big = Array.from({ length: 10 }, (_, i) => `k${i}=${"v".repeat(1000)}`)
    .join(",");
  const kept = parseBaggage(big);
  assert.equal(
    kept.length,
    8,
    "8 members of 1003 bytes fit in 8192, a 9th does not",
  );
  assert.ok(
    kept.every(([, entry]) => entry.value.length === 1000),
    "never a partial member",
  );
});

Deno.test("serializeBaggage() percent-encodes values and keeps whole members within the limits", () => {
  const baggage = propagation.createBaggage({
    userId: { value: "Jürgen M,=%" },
    "bad key": { value: "skipped" },
    withProps: { value: "v", metadata: { toString: () => "p1;p2=x" } as never },
  });
  assert.equal(
    serializeBaggage(baggage),
    "userId=J%C3%BCrgen%20M%2C=%25,withProps=v;p1;p2=x",
  );
  const big = propagation.createBaggage(
    Object.fromEntries(
      Array.from(
        { length: 10 },
        (_, i) => [`k${i}`, { value: "v".repeat(1000) }],
      ),
    ),
  );
  assert.equal(serializeBaggage(big).split(",").length, 8);
});

Deno.test("W3CBaggagePropagator round-trips what it reads", () => {
  const propagator = new W3CBaggagePropagator();
  const context = propagator.extract(ROOT_CONTEXT, {
    baggage: ["a=1", "b=J%C3%BCrgen;p"],
  }, getter);
  assert.equal(propagation.getBaggage(context)?.getEntry("b")?.value, "Jürgen");
  const carrier: Record<string, string> = {};
  propagator.inject(context, carrier, setter);
  assert.equal(carrier.baggage, "a=1,b=J%C3%BCrgen;p");
  assert.equal(
    propagator.extract(ROOT_CONTEXT, { baggage: "no equals" }, getter),
    ROOT_CONTEXT,
  );
});

Deno.test("serializeBaggage() and parseBaggage() round-trip any value (property)", () => {
  const key = fc.string({
    unit: fc.constantFrom(..."!#$%&'*+-.^_`|~azAZ09"),
    minLength: 1,
    maxLength: 10,
  });
  fc.assert(
    fc.property(
      fc.dictionary(key, fc.string({ unit: "grapheme", maxLength: 30 }), {
        maxKeys: 10,
      }),
      (entries) => {
        const baggage = propagation.createBaggage(
          Object.fromEntries(
            Object.entries(entries).map(([k, value]) => [k, { value }]),
          ),
        );
        const parsed = parseBaggage(serializeBaggage(baggage));
        assert.deepEqual(
          parsed.map(([k, entry]) => [k, entry.value]),
          Object.entries(entries),
        );
      },
    ),
    { numRuns: 300 },
  );
});

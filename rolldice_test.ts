import assert from "node:assert/strict";
import { SeverityNumber, trace, ValueType } from "@opentelemetry/api";
import { DataPointType } from "@opentelemetry/sdk-metrics";
import { ATTR_ROLL_VALUE, DICE_SCOPE_NAME, newRollDice } from "./rolldice.ts";
import { setupTestSDK, spanNamed } from "./testing.ts";

Deno.test("newRollDice()", async (t) => {
  const sdk = await setupTestSDK();
  let parentSpanId = "";
  const responses: Response[] = [];
  try {
    // 0 rolls a 1, 0.5 a 4 and 0.9999 a 6: every face is reachable.
    const draws = [0, 0.5, 0.9999];
    const rolldice = newRollDice(() => draws.shift()!);
    await trace.getTracer("test").startActiveSpan("parent", async (parent) => {
      parentSpanId = parent.spanContext().spanId;
      responses.push(
        await rolldice(new Request("http://localhost/"), { player: "Alice" }),
      );
      parent.end();
    });
    responses.push(await rolldice(new Request("http://localhost/"), {}));
    responses.push(
      await rolldice(new Request("http://localhost/"), { player: "Bob" }),
    );
    await sdk.collectMetrics();
  } finally {
    await sdk.shutdown();
  }

  await t.step(
    "answers the roll as text/plain: one number and a newline",
    async () => {
      assert.deepEqual(
        await Promise.all(responses.map((response) => response.text())),
        ["1\n", "4\n", "6\n"],
      );
      for (const response of responses) {
        assert.equal(response.status, 200);
        assert.equal(
          response.headers.get("content-type"),
          "text/plain; charset=utf-8",
        );
      }
    },
  );

  await t.step(
    "records a roll span with the integer attribute roll.value",
    () => {
      const rolls = sdk.spans().filter((span) => span.name === "roll");
      assert.deepEqual(rolls.map((span) => span.attributes), [
        { [ATTR_ROLL_VALUE]: 1 },
        { [ATTR_ROLL_VALUE]: 4 },
        { [ATTR_ROLL_VALUE]: 6 },
      ]);
      assert.equal(rolls[0].instrumentationScope.name, DICE_SCOPE_NAME);
    },
  );

  await t.step("makes the roll span a child of the active span", () => {
    const parent = spanNamed(sdk.spans(), "parent");
    const [first, second] = sdk.spans().filter((span) => span.name === "roll");
    assert.equal(first.parentSpanContext?.spanId, parentSpanId);
    assert.equal(first.spanContext().traceId, parent.spanContext().traceId);
    assert.equal(second.parentSpanContext, undefined);
  });

  await t.step("counts dice.rolls by roll.value", () => {
    const rolls = sdk.metric("dice.rolls");
    assert.ok(rolls, "dice.rolls was not exported");
    assert.equal(rolls.descriptor.unit, "{roll}");
    assert.equal(
      rolls.descriptor.description,
      "The number of rolls by roll value",
    );
    assert.equal(rolls.descriptor.valueType, ValueType.INT);
    assert.equal(rolls.dataPointType, DataPointType.SUM);
    assert.equal(rolls.isMonotonic, true);
    assert.deepEqual(
      rolls.dataPoints.map((point) => [point.attributes, point.value]),
      [[{ [ATTR_ROLL_VALUE]: 1 }, 1], [{ [ATTR_ROLL_VALUE]: 4 }, 1], [{
        [ATTR_ROLL_VALUE]: 6,
      }, 1]],
    );
  });

  await t.step("logs who rolls at INFO with the integer result", () => {
    const records = sdk.logRecords();
    assert.deepEqual(
      records.map((record) => [record.body, record.attributes]),
      [
        ["Alice is rolling the dice", { result: 1 }],
        ["Anonymous player is rolling the dice", { result: 4 }],
        ["Bob is rolling the dice", { result: 6 }],
      ],
    );
    for (const record of records) {
      assert.equal(record.severityNumber, SeverityNumber.INFO);
      assert.equal(record.severityText, "INFO");
      assert.equal(record.instrumentationScope.name, DICE_SCOPE_NAME);
    }
  });

  await t.step("correlates each log record with its roll span", () => {
    const rolls = sdk.spans().filter((span) => span.name === "roll");
    assert.deepEqual(
      sdk.logRecords().map((record) => record.spanContext),
      rolls.map((span) => span.spanContext()),
    );
  });
});

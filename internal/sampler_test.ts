import assert from "node:assert/strict";
import { newSampler } from "./sampler.ts";

Deno.test("newSampler() makes the sampler OTEL_TRACES_SAMPLER names", () => {
  const cases = {
    always_on: "AlwaysOnSampler",
    always_off: "AlwaysOffSampler",
    traceidratio: "TraceIdRatioBased{0.25}",
    parentbased_always_on: "ParentBased{root=AlwaysOnSampler",
    parentbased_always_off: "ParentBased{root=AlwaysOffSampler",
    parentbased_traceidratio: "ParentBased{root=TraceIdRatioBased{0.25}",
  } as const;
  for (const [name, description] of Object.entries(cases)) {
    const sampler = newSampler({
      name: name as keyof typeof cases,
      ratio: 0.25,
    });
    assert.ok(
      sampler.toString().startsWith(description),
      `${name}: ${sampler}`,
    );
  }
});

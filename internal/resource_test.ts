import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { readConfig } from "./config.ts";
import { givenInstanceId, newResource } from "./resource.ts";

// The detectors read the process environment: set it for one step, and
// read the configuration from it too, as the service does.
function resourceWith(vars: Record<string, string>) {
  const names = ["OTEL_RESOURCE_ATTRIBUTES", "OTEL_SERVICE_NAME"];
  const before = names.map((name) => Deno.env.get(name));
  for (const name of names) {
    if (vars[name] === undefined) Deno.env.delete(name);
    else Deno.env.set(name, vars[name]);
  }
  try {
    const warnings: string[] = [];
    readConfig((name) => Deno.env.get(name), (w) => warnings.push(w));
    return { attributes: newResource().attributes, warnings };
  } finally {
    names.forEach((name, i) => {
      if (before[i] === undefined) Deno.env.delete(name);
      else Deno.env.set(name, before[i]);
    });
  }
}

Deno.test("newResource()", async (t) => {
  await t.step("names the service dice and the runtime Deno, not Node", () => {
    const { attributes, warnings } = resourceWith({});
    assert.deepEqual(warnings, []);
    assert.equal(attributes["service.name"], "dice");
    assert.equal(attributes["service.version"], denoJson.version);
    assert.equal(attributes["process.runtime.name"], "deno");
    assert.equal(attributes["process.runtime.version"], Deno.version.deno);
    assert.equal(attributes["telemetry.sdk.name"], "opentelemetry");
    const pinned = denoJson.imports["@opentelemetry/core"].split("@").pop();
    assert.equal(attributes["telemetry.sdk.version"], pinned);
  });

  await t.step(
    "adds OTEL_RESOURCE_ATTRIBUTES, percent-decoded and trimmed, over the defaults",
    () => {
      const { attributes, warnings } = resourceWith({
        OTEL_RESOURCE_ATTRIBUTES:
          "service.name=roller,deployment.environment.name=dev%2Cblue, team = dice%20crew ",
      });
      assert.deepEqual(warnings, []);
      assert.equal(attributes["service.name"], "roller");
      assert.equal(attributes["deployment.environment.name"], "dev,blue");
      assert.equal(attributes["team"], "dice crew");
    },
  );

  await t.step("lets OTEL_SERVICE_NAME win over service.name", () => {
    const { attributes } = resourceWith({
      OTEL_RESOURCE_ATTRIBUTES: "service.name=roller",
      OTEL_SERVICE_NAME: "croupier",
    });
    assert.equal(attributes["service.name"], "croupier");
  });

  for (
    const malformed of [
      "team",
      "team=a=b",
      "=x",
      "team=%zz",
      `team=${"x".repeat(256)}`,
    ]
  ) {
    await t.step(
      `ignores ${
        JSON.stringify(malformed.slice(0, 12))
      } as a whole and says so`,
      () => {
        const { attributes, warnings } = resourceWith({
          OTEL_RESOURCE_ATTRIBUTES: `good=1,${malformed}`,
        });
        assert.equal(attributes["good"], undefined);
        assert.equal(attributes["service.name"], "dice");
        assert.equal(warnings.length, 1);
        assert.match(
          warnings[0],
          /^OTEL_RESOURCE_ATTRIBUTES must be a comma-separated list of key=value pairs.*; ignoring it$/,
        );
      },
    );
  }

  await t.step("says nothing of a list of blank entries", () => {
    const { warnings } = resourceWith({ OTEL_RESOURCE_ATTRIBUTES: " , ," });
    assert.deepEqual(warnings, []);
  });
});

Deno.test("newResource() gives each setup an instance id of its own; a given one is kept, and numbered per worker", () => {
  const name = "OTEL_RESOURCE_ATTRIBUTES";
  const before = Deno.env.get(name);
  try {
    Deno.env.delete(name);
    const [a, b] = [newResource(), newResource(2)]
      .map((r) => String(r.attributes["service.instance.id"]));
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
    assert.notEqual(a, b);
    assert.equal(givenInstanceId(), undefined);
    Deno.env.set(name, "service.instance.id=pod-7");
    assert.equal(newResource().attributes["service.instance.id"], "pod-7");
    assert.equal(newResource(2).attributes["service.instance.id"], "pod-7-2");
    assert.equal(givenInstanceId(), "pod-7");
  } finally {
    if (before === undefined) Deno.env.delete(name);
    else Deno.env.set(name, before);
  }
});

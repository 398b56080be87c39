import assert from "node:assert/strict";
import denoJson from "./deno.json" with { type: "json" };
import { runToExit } from "./testing.ts";

Deno.test("deno.json runs every Deno command of every task with -P, never -A", () => {
  for (const [name, task] of Object.entries(denoJson.tasks)) {
    const command = task.command;
    assert.doesNotMatch(
      command,
      /(^|\s)(-A|--allow-all|--allow-\w+)(\s|=|$)/,
      name,
    );
    for (const run of command.matchAll(/deno (run|test|compile)\b[^&]*/g)) {
      assert.match(run[0], /\s-P(\s|$)/, `${name}: ${run[0]}`);
    }
  }
});

Deno.test("deno.json declares each permission set once and uses it by name", () => {
  assert.deepEqual(Object.keys(denoJson.permissions), ["default", "test"]);
  assert.equal(denoJson.test.permissions, "test");
  assert.equal(denoJson.compile.permissions, "default");
  assert.equal(JSON.stringify(denoJson).includes('"all"'), false);
});

Deno.test("plain deno test answers with Deno's hint to use -P", async () => {
  const { code, stderr } = await runToExit([
    "deno",
    "test",
    "--no-check",
    "deno_json_test.ts",
  ]);
  assert.notEqual(code, 0);
  assert.match(
    stderr,
    /Test permissions were found in the config file\. Did you mean to run with `-P`/,
  );
});

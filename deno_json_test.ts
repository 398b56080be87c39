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
      assert.match(run[0], /\s-P(=[\w-]+)?(\s|$)/, `${name}: ${run[0]}`);
    }
  }
});

Deno.test("deno.json declares each permission set once and uses it by name", () => {
  assert.deepEqual(Object.keys(denoJson.permissions), [
    "default",
    "test",
    "bench",
    "bench-service",
  ]);
  assert.equal(denoJson.test.permissions, "test");
  assert.equal(denoJson.bench.permissions, "test");
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

Deno.test("the service's permission set grants what it needs and nothing more", async () => {
  // A probe next to the service, run exactly as `deno task start` runs it.
  await Deno.mkdir(".build", { recursive: true });
  const probe = ".build/permission_probe.ts";
  await Deno.writeTextFile(
    probe,
    `import "../main.ts";
const descriptors = {
  "env PORT": { name: "env", variable: "PORT" },
  "env OTEL_SERVICE_NAME": { name: "env", variable: "OTEL_SERVICE_NAME" },
  "env DICE_CONSOLE_FORMAT": { name: "env", variable: "DICE_CONSOLE_FORMAT" },
  "listen 0.0.0.0:8080": { name: "net", host: "0.0.0.0:8080" },
  "connect localhost:4318": { name: "net", host: "localhost:4318" },
  "env HOME": { name: "env", variable: "HOME" },
  "connect example.com:443": { name: "net", host: "example.com:443" },
  "read": { name: "read" },
  "write": { name: "write" },
  "run": { name: "run" },
  "ffi": { name: "ffi" },
  "sys": { name: "sys" },
  "import": { name: "import", host: "example.com" },
};
const states = {};
for (const [name, descriptor] of Object.entries(descriptors)) {
  states[name] = Deno.permissions.querySync(descriptor).state;
}
console.log(JSON.stringify(states));
`,
  );
  try {
    const { code, stdout, stderr } = await runToExit([
      "deno",
      "run",
      "-P",
      "--no-prompt",
      probe,
    ]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), {
      "env PORT": "granted",
      "env OTEL_SERVICE_NAME": "granted",
      "env DICE_CONSOLE_FORMAT": "granted",
      "listen 0.0.0.0:8080": "granted",
      "connect localhost:4318": "granted",
      "env HOME": "prompt",
      "connect example.com:443": "prompt",
      "read": "prompt",
      "write": "prompt",
      "run": "prompt",
      "ffi": "prompt",
      "sys": "prompt",
      "import": "prompt",
    });
  } finally {
    await Deno.remove(probe);
  }
});

/**
 * Builds the single executable with `deno task compile` and runs it.
 *
 * `deno compile` needs a `denort` runtime: it downloads one unless
 * DENORT_BIN points at one. Where neither works (no internet, no DENORT_BIN),
 * the test is reported as ignored, never as passed.
 */

import assert from "node:assert/strict";
import { parseDocuments, startService } from "./testing.ts";

const BINARY = "./.build/dice";

async function compile(): Promise<{ ok: boolean; stderr: string }> {
  await Deno.mkdir(".build", { recursive: true });
  const { success, stderr } = await new Deno.Command("deno", {
    args: ["compile", "-P", "--output", BINARY, "main.ts"],
    stdout: "null",
    stderr: "piped",
  }).output();
  return { ok: success, stderr: new TextDecoder().decode(stderr) };
}

const compiled = await compile();
const denortMissing = !compiled.ok && !Deno.env.get("DENORT_BIN") &&
  /denort|dl\.deno\.land|error sending request|dns error/i.test(
    compiled.stderr,
  );
if (denortMissing) {
  console.error(
    "compile_test.ts: ignored: deno compile could not download denort and " +
      "DENORT_BIN is not set; set DENORT_BIN to a denort binary to build offline",
  );
}

Deno.test({
  name:
    "deno task compile builds one executable that serves and flushes telemetry",
  ignore: denortMissing,
  async fn() {
    assert.ok(compiled.ok, `deno compile failed:\n${compiled.stderr}`);
    try {
      const service = await startService([BINARY]);
      const response = await fetch(
        `http://127.0.0.1:${service.port}/rolldice/Alice`,
      );
      assert.match(await response.text(), /^[1-6]\n$/);
      await service.signalGroup("INT");
      const { code, stdout, stderr } = await service.exited();
      assert.equal(code, 0, stderr);
      const names = parseDocuments(stdout).map((doc) =>
        doc.Name ?? (doc.Body as { Value: string })?.Value
      );
      assert.ok(names.includes("GET /rolldice/{player}"), stdout);
      assert.ok(names.includes("Alice is rolling the dice"), stdout);
    } finally {
      await Deno.remove(BINARY).catch(() => {});
    }
  },
});

/**
 * Tests of `deno task compile`'s wrapper: the classification of
 * `deno compile`'s failures over stderr that Deno 2.9.6 really wrote (the
 * files in `testdata/`, captured with the same Deno.Command options as the
 * tool uses), and the task's command run end to end.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  checkDenortBin,
  COMPILE_ARGS,
  explainCompileFailure,
  OUTPUT,
} from "./main.ts";

/** The stderr `deno compile` wrote in one case, read from `testdata/`. */
function sample(name: string): Promise<string> {
  return Deno.readTextFile(
    new URL(`./testdata/${name}.stderr.txt`, import.meta.url),
  );
}

const DENORT_URL =
  "https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip";

// Offline, without DENORT_BIN: a DNS error, the cause chain, a backtrace.
Deno.test("explainCompileFailure turns the offline download failure into one line naming DENORT_BIN and the version", async () => {
  const line = explainCompileFailure(await sample("offline"), "2.9.6");
  assert.equal(
    line,
    `deno compile could not download denort from ${DENORT_URL} ` +
      "(failed to lookup address information: Name or service not known); " +
      "set DENORT_BIN to a denort binary for Deno 2.9.6, " +
      "not to the deno binary itself " +
      "(with deno the build succeeds but ./dice opens a Deno REPL instead of serving)",
  );
});

Deno.test("explainCompileFailure names the version it is given, not the one in Deno's URL", async () => {
  const line = explainCompileFailure(await sample("offline"), "2.10.0");
  assert.match(line ?? "", /a denort binary for Deno 2\.10\.0,/);
});

Deno.test("explainCompileFailure reads Deno's output with or without colours", async () => {
  // deno-lint-ignore no-control-regex
  const plain = (await sample("offline")).replace(/\x1b\[[0-9;]*m/g, "");
  assert.equal(
    explainCompileFailure(plain, "2.9.6"),
    explainCompileFailure(await sample("offline"), "2.9.6"),
  );
});

// DENORT_BIN set to a file that is not there: Deno names the path itself,
// and the word denort in it must not pass for a download failure.
Deno.test("explainCompileFailure leaves a missing DENORT_BIN file to Deno", async () => {
  const stderr = await sample("denort_bin_missing");
  assert.match(stderr, /Could not find denort at '\/nonexistent\/denort'/);
  assert.equal(explainCompileFailure(stderr, "2.9.6"), undefined);
});

// A type error in main.ts (captured from a copy of the repository).
Deno.test("explainCompileFailure leaves an unrelated type error to Deno", async () => {
  const stderr = await sample("type_error");
  assert.match(stderr, /TS2322/);
  assert.equal(explainCompileFailure(stderr, "2.9.6"), undefined);
});

// The two other failures under the same context in Deno's source, made from
// the offline sample by swapping its causes for Deno's own wording.
Deno.test("explainCompileFailure explains a release without denort, and leaves a cache it cannot write to Deno", async () => {
  const offline = await sample("offline");
  const causes = /( {4}1: error sending request[^]*?)\n\n/;
  const notFound = offline.replace(
    causes,
    "    1: Download could not be found, aborting\n\n",
  );
  assert.match(
    explainCompileFailure(notFound, "2.9.6") ?? "",
    /could not download denort from \S+ \(Download could not be found, aborting\); set DENORT_BIN/,
  );
  const cache = offline.replace(
    causes,
    "    1: Writing /root/.cache/deno/dl/release/v2.9.6/denort.zip\n" +
      "    2: Permission denied (os error 13)\n\n",
  );
  assert.notEqual(cache, offline);
  assert.equal(explainCompileFailure(cache, "2.9.6"), undefined);
});

Deno.test("checkDenortBin refuses the deno binary and lets anything else through", () => {
  assert.equal(checkDenortBin(undefined, "2.9.6"), undefined);
  assert.equal(checkDenortBin("/opt/deno/denort", "2.9.6"), undefined);
  assert.equal(
    checkDenortBin("/usr/bin/deno", "2.9.6"),
    "DENORT_BIN=/usr/bin/deno is the deno binary, not denort: with it the " +
      "build succeeds but ./dice opens a Deno REPL instead of serving; " +
      "set DENORT_BIN to a denort binary for Deno 2.9.6",
  );
  assert.match(
    checkDenortBin("C:\\Deno\\deno.exe", "2.9.6") ?? "",
    /is the deno binary/,
  );
});

Deno.test("the tool runs deno compile -P --output dice main.ts", () => {
  assert.equal(
    ["deno", ...COMPILE_ARGS].join(" "),
    "deno compile -P --output dice main.ts",
  );
  assert.equal(OUTPUT, "dice");
});

// End to end: the task's command from deno.json, run from the repository.
// Here (no internet, no DENORT_BIN) the build fails and the tool must say
// so in one line; on a machine that reaches dl.deno.land, or with
// DENORT_BIN set, it builds ./dice, which is then what gets checked.
const ROOT = new URL("../../", import.meta.url);

Deno.test("deno task compile's command either builds ./dice or says in one line to set DENORT_BIN", async () => {
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  const [env, command, ...args] = denoJson.tasks.compile.command.split(" ");
  assert.deepEqual(
    [env, command, ...args],
    [
      "DENO_NO_UPDATE_CHECK=1",
      "deno",
      "run",
      "-q",
      "-P=build",
      "tools/compile/main.ts",
    ],
  );
  const { code, stderr } = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(stderr).split("\n");
  assert.equal(lines.pop(), "", "stderr ends with a newline");
  if (code === 0) {
    // Built: this machine downloaded denort, or DENORT_BIN named one.
    console.error("  (the build succeeded: the offline path was not taken)");
    assert.deepEqual(lines, ["dice: built ./dice"]);
    const built = await Deno.stat(new URL(OUTPUT, ROOT));
    assert.ok(built.isFile && built.size > 0);
  } else {
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /^dice: .*DENORT_BIN/);
    assert.ok(lines[0].includes(`Deno ${Deno.version.deno},`), lines[0]);
  }
});

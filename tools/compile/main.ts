/**
 * `deno task compile`: runs `deno compile -P --output dice main.ts` and
 * turns its one common failure into one line that says what to do.
 *
 * `deno compile` builds on `denort`, Deno's runtime without the CLI, which it
 * downloads from dl.deno.land for the running Deno version unless
 * `DENORT_BIN` names one. Offline, Deno answers with a DNS error, a cause
 * chain and a backtrace; this tool answers with one line naming
 * `DENORT_BIN` and the Deno version instead. Any other failure is Deno's to
 * explain, so its output passes through unchanged. On success the tool
 * prints what it built, not Deno's list of embedded files.
 *
 * ```sh
 * deno task compile
 * DENORT_BIN=/path/to/denort deno task compile
 * ```
 *
 * @module
 */

import { logToStderr } from "../../internal/stderr.ts";

/** The executable `deno task compile` builds, relative to the repository. */
export const OUTPUT = "dice";

/** The arguments of `deno compile -P --output dice main.ts`, the build itself. */
export const COMPILE_ARGS: readonly string[] = [
  "compile",
  "-P",
  "--output",
  OUTPUT,
  "main.ts",
];

// Deno colours its output even into a pipe; the patterns below match text.
// deno-lint-ignore no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

// The context Deno (cli/standalone/binary.rs) puts on every failure of
// fetching denort: a network error, a release without denort ("Download
// could not be found, aborting"), or its download cache not writable.
const DOWNLOAD_CONTEXT = /^\s*(?:\d+: )?Setting up base binary\.\s*$/;
const CAUSE = /^\s*(?:\d+: )?(.+?)\s*$/;
const DENORT_URL = /https:\/\/dl\.deno\.land\/\S+?\.zip/;

const REPL_TRAP =
  `the build succeeds but ./${OUTPUT} opens a Deno REPL instead of serving`;

/** The one line that replaces `deno compile`'s output when it could not download denort, else undefined. */
export function explainCompileFailure(
  stderr: string,
  denoVersion: string,
): string | undefined {
  const lines = stderr.replace(ANSI_ESCAPE, "").split(/\r?\n/);
  const at = lines.findIndex((line) => DOWNLOAD_CONTEXT.test(line));
  if (at < 0) return undefined;
  // The causes follow the context, most general first, up to a blank line.
  const end = lines.indexOf("", at);
  const causes = lines.slice(at + 1, end < 0 ? undefined : end)
    .map((line) => line.match(CAUSE)?.[1] ?? "")
    .filter((cause) => cause !== "");
  // A download cache that cannot be written is no download failure, and
  // DENORT_BIN would only hide it: that one is Deno's to explain.
  if (/^(Creating|Writing) /.test(causes[0] ?? "")) return undefined;
  const url = stderr.replace(ANSI_ESCAPE, "").match(DENORT_URL)?.[0];
  const from = url ? ` from ${url}` : "";
  // The innermost cause says why (a DNS error, a refused connection, 404).
  const why = causes.length > 0 ? ` (${causes[causes.length - 1]})` : "";
  return `deno compile could not download denort${from}${why}; ` +
    `set DENORT_BIN to a denort binary for Deno ${denoVersion}, ` +
    `not to the deno binary itself (with deno ${REPL_TRAP})`;
}

/** The one line that refuses a `DENORT_BIN` naming the deno binary, else undefined. */
export function checkDenortBin(
  denortBin: string | undefined,
  denoVersion: string,
): string | undefined {
  if (denortBin === undefined) return undefined;
  // Without read access to resolve links, the file name is what there is to
  // go on; denort's releases name it denort, and `$(which deno)` ends in deno.
  const name = denortBin.split(/[\\/]/).pop()?.toLowerCase();
  if (name !== "deno" && name !== "deno.exe") return undefined;
  return `DENORT_BIN=${denortBin} is the deno binary, not denort: with it ` +
    `${REPL_TRAP}; set DENORT_BIN to a denort binary for Deno ${denoVersion}`;
}

/** Writes all of `bytes` to standard error, as Deno wrote them. */
async function writeStderr(bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await Deno.stderr.write(bytes.subarray(written));
  }
}

/** Runs the build in the current directory (the repository's, under `deno task`) and returns the exit code. */
export async function main(): Promise<number> {
  const refusal = checkDenortBin(Deno.env.get("DENORT_BIN"), Deno.version.deno);
  if (refusal !== undefined) {
    logToStderr(refusal);
    return 1;
  }
  // The child inherits the environment, DENORT_BIN included; stderr is held
  // back until the exit code says whether Deno's words or ours are wanted.
  const { success, code, stderr } = await new Deno.Command("deno", {
    args: [...COMPILE_ARGS],
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (success) {
    logToStderr(`built ./${OUTPUT}`);
    return 0;
  }
  const explanation = explainCompileFailure(
    new TextDecoder().decode(stderr),
    Deno.version.deno,
  );
  if (explanation !== undefined) logToStderr(explanation);
  else await writeStderr(stderr);
  // Deno's own code (1 for these failures, 128 + n after signal n).
  return code;
}

if (import.meta.main) {
  Deno.exit(await main());
}

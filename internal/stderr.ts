/**
 * The service's one voice for people: a `dice: ` line on standard error,
 * since standard output carries telemetry only.
 *
 * Written to `Deno.stderr` directly, not through `console.error`: under
 * `deno serve --parallel` the runtime prefixes a worker's console lines
 * with `[serve-worker-N ]`, and dice's lines keep dice's own format.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Prints `message` as one `dice: ` line on standard error. */
export function logToStderr(message: string): void {
  writeLine(`dice: ${message}\n`);
}

/**
 * A {@linkcode logToStderr} that names who speaks, such as a worker of
 * `deno task serve`: `dice[worker 1]: ` lines.
 */
export function stderrLoggerFor(name: string): (message: string) => void {
  return (message) => writeLine(`dice[${name}]: ${message}\n`);
}

// One line in one write where the terminal or pipe takes it, so that lines
// from several workers do not interleave.
function writeLine(line: string): void {
  const bytes = encoder.encode(line);
  for (let offset = 0; offset < bytes.length;) {
    offset += Deno.stderr.writeSync(bytes.subarray(offset));
  }
}

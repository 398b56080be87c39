/**
 * `deno task serve`: runs `serve.ts` on every core with
 * `deno serve --parallel`, with the permission set of `deno task start`.
 *
 * `deno serve` reads neither `PORT` nor `DICE_HOST` (its default port is
 * 8000), and `deno task` cannot spell `${PORT:-8080}`: this launcher reads
 * them as `deno task start` does and passes them as `--port` and `--host`,
 * and resolves `DENO_JOBS`, the number of workers, so that the workers
 * know it too. It needs to run `deno` only.
 *
 * Settings that cannot work in several workers are refused here with one
 * line, exit 2: `PORT=0`, since each worker would listen on a port of its
 * own. The workers refuse the rest (see `internal/workers.ts`).
 *
 * @module
 */

import {
  ConfigError,
  EnvReader,
  readHostname,
  readPort,
} from "../../internal/config.ts";
import { bracketed } from "../../internal/host.ts";
import { SHUTDOWN_SIGNALS } from "../../internal/signals.ts";
import { logToStderr } from "../../internal/stderr.ts";
import { workerCount } from "../../internal/workers.ts";

const ENTRY = new URL("../../serve.ts", import.meta.url).pathname;

/** The `deno serve` arguments and `DENO_JOBS` for the environment `env`. */
export function serveCommand(
  env: (name: string) => string | undefined,
): { args: string[]; jobs: number } {
  const read = new EnvReader(env, logToStderr);
  const port = readPort(read);
  const jobs = workerCount(env);
  if (port === 0 && jobs > 1) {
    throw new ConfigError(
      `PORT=0 cannot run in ${jobs} workers: each would listen on a port ` +
        "of its own; choose a port, or run deno task start",
    );
  }
  // '[::]' listens on both address families; "::" is refused by deno serve.
  const host = bracketed(readHostname(read) ?? "::");
  return {
    args: [
      "serve",
      "-P",
      "--parallel",
      "--port",
      `${port}`,
      "--host",
      host,
      ENTRY,
    ],
    jobs,
  };
}

/** Runs the workers until they exit; returns their exit code. */
async function main(): Promise<number> {
  let command;
  try {
    command = serveCommand((name) => Deno.env.get(name));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logToStderr(error.message);
    return 2;
  }
  const child = new Deno.Command("deno", {
    args: command.args,
    env: { DENO_JOBS: `${command.jobs}`, DENO_NO_UPDATE_CHECK: "1" },
    stdin: "inherit",
  }).spawn();
  // A signal sent to this launcher alone, rather than to the terminal's
  // process group, reaches the workers too; one sent to both arrives twice,
  // which the workers count as one, as they do under deno task.
  for (const signal of SHUTDOWN_SIGNALS) {
    Deno.addSignalListener(signal, () => child.kill(signal));
  }
  // Deno gives a process ended by a signal the shell's code, 128 + N.
  return (await child.status).code;
}

if (import.meta.main) Deno.exit(await main());

/**
 * The workers of `deno serve --parallel` (`deno task serve`): how many
 * there are, which one this is, and the settings they share.
 *
 * Measured on Deno 2.9.6: the runtime runs the entry module once per
 * worker, each in an isolate of its own in one process, and tells a worker
 * neither its number nor the number of workers (`import.meta.main` is true
 * in every one, and `self.name` is empty). So the workers number
 * themselves: each posts a random ticket on a `BroadcastChannel`, which
 * every worker of the process shares, answers newcomers with its own, and
 * takes its ticket's rank once it has seen every worker's. The number
 * names the worker on stderr and keeps a given `service.instance.id`
 * distinct.
 *
 * A failure every worker shares, such as a setting dice cannot use, is
 * said once, by worker 1, whose `Deno.exit` ends the whole process.
 *
 * @module
 */

import { type Config, ConfigError, readSettings } from "./config.ts";
import { type EnvLookup, EnvReader, shown } from "./env.ts";
import { messageOf } from "./errors.ts";
import { refusePrometheusUnderWorkers } from "./prometheus_config.ts";
import { givenInstanceId } from "./resource.ts";
import { logToStderr, stderrLoggerFor } from "./stderr.ts";

/** How long the workers may take to find each other at start. */
export const ELECTION_MILLIS = 10_000;

/** This worker of `deno serve --parallel`. */
export interface Worker {
  /** Its number, from 1 to {@linkcode Worker.count}. */
  readonly number: number;
  /** How many workers serve. */
  readonly count: number;
  /** Says one line naming this worker: `dice[worker 1]: ` ... */
  readonly warn: (message: string) => void;
  /**
   * Ends every worker with `code`: at once from worker 1, a moment later
   * from the others, so that a failure they all share is said once.
   */
  exit(code: number): Promise<never>;
}

/**
 * The number of workers: `DENO_JOBS`, as `deno serve --parallel` reads it,
 * or else the number of CPUs.
 */
export function workerCount(env: EnvLookup): number {
  const raw = new EnvReader(env, () => {}).get("DENO_JOBS");
  if (raw === undefined) return navigator.hardwareConcurrency;
  const count = /^\d{1,4}$/.test(raw) ? Number(raw) : 0;
  if (count >= 1) return count;
  throw new ConfigError(
    `DENO_JOBS must be a whole number of workers from 1 to 9999, got ${
      shown(raw)
    }`,
  );
}

/**
 * Numbers this worker from 1 to `count` with the others that call it on
 * the same `channel`; rejects when it has not seen them all within
 * `waitMillis`.
 */
export function electWorker(
  count: number,
  { channel = "dice-workers", waitMillis = ELECTION_MILLIS } = {},
): Promise<number> {
  if (count === 1) return Promise.resolve(1);
  const mine: string = crypto.randomUUID();
  const seen = new Set<string>([mine]);
  const bus = new BroadcastChannel(channel);
  const { promise, resolve, reject } = Promise.withResolvers<number>();
  function done(): void {
    clearTimeout(timer);
    // Open a moment longer, for a newcomer that still needs our answer;
    // an open channel would keep the worker from ever unloading.
    setTimeout(() => bus.close(), 250);
    if (seen.size < count) {
      reject(
        new Error(
          `the workers did not find each other within ${waitMillis} ms ` +
            `(${seen.size} of ${count})`,
        ),
      );
    } else resolve([...seen].sort().indexOf(mine) + 1);
  }
  const timer = setTimeout(done, waitMillis);
  bus.onmessage = (
    { data }: MessageEvent<{ ticket: string; ask: boolean }>,
  ) => {
    if (seen.has(data.ticket)) return;
    seen.add(data.ticket);
    if (data.ask) bus.postMessage({ ticket: mine, ask: false });
    if (seen.size === count) done();
  };
  bus.postMessage({ ticket: mine, ask: true });
  return promise;
}

/** Finds this worker's number among `DENO_JOBS` workers, or ends them all. */
export async function startWorker(): Promise<Worker> {
  let count = 1;
  try {
    count = workerCount((name) => Deno.env.get(name));
    const number = await electWorker(count);
    return newWorker(number, count);
  } catch (error) {
    return await newWorker(1, count).exit(failed(error, 1, logToStderr));
  }
}

function newWorker(number: number, count: number): Worker {
  const warn = count === 1 ? logToStderr : stderrLoggerFor(`worker ${number}`);
  return {
    number,
    count,
    warn,
    exit(code) {
      if (number === 1) Deno.exit(code);
      setTimeout(() => Deno.exit(code), 1000);
      return new Promise<never>(() => {});
    },
  };
}

// One line for a failure: a ConfigError's own message; exit 2 for those.
function failed(
  error: unknown,
  code: number,
  warn: (message: string) => void,
): number {
  warn(messageOf(error));
  return error instanceof ConfigError ? 2 : code;
}

/**
 * The settings, as `deno task start` reads them, said once by worker 1;
 * refused, with one line, when they cannot work in several workers.
 */
export async function readWorkerSettings(worker: Worker): Promise<Config> {
  const quiet = () => {};
  const say = worker.number === 1 ? worker.warn : quiet;
  const config = readSettings(say);
  if (typeof config === "number") return await worker.exit(config);
  try {
    refusePrometheusUnderWorkers(config.metrics, worker.count);
  } catch (error) {
    return await worker.exit(failed(error, 2, say));
  }
  const id = givenInstanceId();
  if (id !== undefined && worker.count > 1) {
    say(
      `OTEL_RESOURCE_ATTRIBUTES gives service.instance.id=${shown(id)}, ` +
        `which ${worker.count} workers would share: worker N reports ` +
        `${shown(`${id}-N`)}`,
    );
  }
  return config;
}

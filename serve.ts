/**
 * The dice service on every core: the entry that `deno task serve` runs
 * with `deno serve --parallel`, one worker per `DENO_JOBS`. The runtime
 * binds the port and runs this module once in each worker; each worker
 * sets up its own OpenTelemetry SDK, with its own `service.instance.id`,
 * serves `/rolldice/{player}` as `main.ts` does, and on SIGINT, SIGTERM or
 * SIGHUP flushes its telemetry once its requests in flight have finished.
 *
 * `main.ts` stays the walkthrough's single process. What differs with
 * workers is one call away, in `internal/workers.ts` and
 * `internal/worker_stop.ts`; `tools/serve/main.ts` starts the workers.
 *
 * @module
 */

import { messageOf } from "./internal/errors.ts";
import { Ledger } from "./internal/ledger.ts";
import { listeningOn } from "./internal/listener.ts";
import { stopGracefully } from "./internal/worker_stop.ts";
import { readWorkerSettings, startWorker } from "./internal/workers.ts";
import { stdoutSink } from "./exporters/stdout/mod.ts";
import { newHTTPHandler } from "./main.ts";
import { setupOTelSDK } from "./otel.ts";

// Which of the workers this is, for its lines on stderr and its instance id.
const worker = await startWorker();
const { warn } = worker;
const config = await readWorkerSettings(worker);

// One sink and one ledger per worker, held for the deadline. Documents stay
// whole between workers: each write to stdout holds whole documents and is
// one call the runtime does not interleave (but for a document longer than
// one write, behind a very slow stdout: docs/configuration.md).
const held = { sink: stdoutSink({ warn }), ledger: new Ledger() };
const shutdown = await setupOTelSDK({
  config,
  ...held,
  warn,
  // One worker keeps an instance id given in OTEL_RESOURCE_ATTRIBUTES.
  worker: worker.count > 1 ? worker.number : undefined,
})
  .catch((error) => {
    warn(`cannot set up OpenTelemetry: ${messageOf(error)}`);
    return Deno.exit(1);
  });

stopGracefully({
  shutdown,
  held,
  timeoutMillis: config.shutdownTimeoutMillis,
  warn,
  speaks: worker.number === 1,
});

const handler = newHTTPHandler(config);

/** What `deno serve` runs in each worker. */
export default {
  fetch: (request, info) => handler(request, info),
  onListen: (addr) =>
    warn(`${listeningOn(addr as Deno.NetAddr)}, in ${worker.count} workers`),
} satisfies Deno.ServeDefaultExport;

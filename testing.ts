/**
 * Test helpers for the service: the real {@linkcode setupOTelSDK} with
 * in-memory exporters, the service run as a real process, and a real OTLP
 * receiver. The libraries' own helpers are in `internal/testing.ts`.
 *
 * @module
 */

import { TIMED_OUT, within } from "./internal/timeout.ts";
import { type Config, DEFAULT_CONFIG } from "./internal/config.ts";
import {
  type Json,
  newTestExporters,
  type TestSDK,
  testSDKOf,
} from "./internal/testing.ts";
import { setupOTelSDK } from "./otel.ts";

export {
  type Json,
  parseDocuments,
  spanNamed,
  TEST_INFO,
  type TestSDK,
} from "./internal/testing.ts";

/** Sets up the SDK through {@linkcode setupOTelSDK} with in-memory exporters. */
export async function setupTestSDK(
  config: Config = DEFAULT_CONFIG,
): Promise<TestSDK> {
  const exporters = newTestExporters();
  const warnings: string[] = [];
  const shutdown = await setupOTelSDK({
    config,
    ...exporters,
    warn: (message) => warnings.push(message),
  });
  return testSDKOf(exporters, shutdown, warnings);
}

/** A service process started by {@linkcode startService}. */
export interface ServiceProcess {
  /** The port it listens on, read from its "listening on" line. */
  port: number;
  /** Its process ID, which is also its process group ID. */
  pid: number;
  /** Sends `signal` to the whole process group, as a terminal's Ctrl+C does. */
  signalGroup(signal: "INT" | "TERM" | "HUP"): Promise<void>;
  /** Waits for the exit and returns the exit code and everything printed. */
  exited(): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Whether the process has exited, without waiting. */
  hasExited(): boolean;
}

/**
 * Starts `command` with PORT=0 in a process group of its own (through
 * `setsid`), and waits until it says where it listens.
 *
 * With `holdStdout`, nothing reads the service's stdout until
 * {@linkcode ServiceProcess.exited} is called, so that once the pipe is full
 * its writes wait, as they do behind a stalled terminal or log shipper.
 */
export async function startService(
  command: string[],
  env: Record<string, string> = {},
  { holdStdout = false }: { holdStdout?: boolean } = {},
): Promise<ServiceProcess> {
  const child = new Deno.Command("setsid", {
    args: command,
    env: { PORT: "0", NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  child.status.then(() => exited = true);
  let stdout: Promise<string> | undefined;
  function readStdout(): Promise<string> {
    return stdout ??= new Response(child.stdout).text();
  }
  if (!holdStdout) readStdout();
  const decoder = new TextDecoder();
  let stderr = "";
  const reader = child.stderr.getReader();
  const stderrDone = (async () => {
    for (
      let chunk = await reader.read();
      !chunk.done;
      chunk = await reader.read()
    ) {
      stderr += decoder.decode(chunk.value, { stream: true });
    }
  })();
  const deadline = Date.now() + 30_000;
  let port: number | undefined;
  while (port === undefined) {
    port = Number(/listening on http:\/\/[^ ]+:(\d+)\//.exec(stderr)?.[1]) ||
      undefined;
    if (port !== undefined) break;
    const status = await Promise.race([
      child.status,
      new Promise((resolve) => setTimeout(resolve, 50)),
    ]);
    if (status || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `${command.join(" ")} did not start listening:\n${stderr}`,
      );
    }
  }
  return {
    port,
    pid: child.pid,
    async signalGroup(signal) {
      const { success } = await new Deno.Command("kill", {
        args: ["-s", signal, "--", `-${child.pid}`],
      }).output();
      assertOk(success, `kill -s ${signal} -${child.pid} failed`);
    },
    hasExited: () => exited,
    async exited() {
      const { code } = await child.status;
      await stderrDone;
      return { code, stdout: await readStdout(), stderr };
    },
  };
}

function assertOk(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Runs `command` to its end with `env`, for commands that exit on their own. */
export async function runToExit(
  command: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [program, ...args] = command;
  const output = await new Deno.Command(program, {
    args,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Removes Deno's own notice about permissions in the config file. */
export function ourStderrLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) =>
    line.trim() !== "" &&
    !line.includes("Permissions in the config file is an experimental feature")
  );
}

/** A real OTLP/HTTP receiver (see tools/otlp_receiver/main.ts) and what it got. */
export interface OtlpReceiver {
  /** Its base URL, for OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:PORT`. */
  url: string;
  /** Everything received so far: `{signal, data}` per decoded or raw request. */
  received: Json[];
  /** Stops it and waits for its exit. */
  close(): Promise<void>;
}

/** Starts the OTLP receiver on a free port of 127.0.0.1. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const child = new Deno.Command("deno", {
    args: ["run", "-P", "main.ts"],
    cwd: new URL("./tools/otlp_receiver/", import.meta.url).pathname,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const received: Json[] = [];
  let stderr = "";
  const stderrDone = new Response(child.stderr).text().then((text) =>
    stderr = text
  );
  const url = Promise.withResolvers<string>();
  const stdoutDone = (async () => {
    let buffered = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const message = JSON.parse(line);
        if (message.listening) {
          url.resolve(
            message.listening.replace(/\/$/, ""),
          );
        } else received.push(message);
      }
    }
  })();
  // The first run downloads the receiver's npm packages: give it a minute.
  const started = await within(
    Promise.race([url.promise, child.status.then(() => undefined)]),
    60_000,
  );
  if (started === undefined || started === TIMED_OUT) {
    child.kill("SIGKILL");
    await Promise.allSettled([child.status, stderrDone]);
    throw new Error(`the OTLP receiver did not start:\n${stderr}`);
  }
  return {
    url: started,
    received,
    async close() {
      // The receiver answers a request before it decodes it: wait until
      // every request it answered is decoded too (or 5 s have passed).
      const deadline = Date.now() + 5000;
      const count = (raw: boolean) =>
        received.filter((r) => (r.signal === "request") === raw).length;
      while (count(false) < count(true) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      child.kill("SIGTERM");
      await Promise.all([child.status, stdoutDone, stderrDone]);
    },
  };
}

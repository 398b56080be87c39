/**
 * Reads the service's settings from environment variables.
 *
 * The rules follow the OpenTelemetry SDK environment-variable specification:
 * an empty value means unset, enumerations are case-insensitive, and a value
 * that cannot be parsed is reported in one line and replaced by the default.
 * `PORT` is the exception: a service that cannot listen where it was told to
 * must not start somewhere else, so a bad `PORT` is an error.
 *
 * @module
 */

/** How the stdout exporters lay out each JSON document. */
export type ConsoleFormat = "pretty" | "compact";

/** Everything the service reads from its environment. */
export interface Config {
  /** TCP port to listen on; 0 picks a free one. */
  port: number;
  /** `OTEL_BSP_SCHEDULE_DELAY`: milliseconds between two span exports. */
  bspScheduleDelayMillis: number;
  /** `OTEL_BLRP_SCHEDULE_DELAY`: milliseconds between two log record exports. */
  blrpScheduleDelayMillis: number;
  /** `OTEL_METRIC_EXPORT_INTERVAL`: milliseconds between two metric exports. */
  metricExportIntervalMillis: number;
  /** `DICE_CONSOLE_FORMAT`: pretty-printed documents, or one per line. */
  consoleFormat: ConsoleFormat;
}

/** The defaults: the Go walkthrough's demo intervals, shorter than the SDK's. */
export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  port: 8080,
  bspScheduleDelayMillis: 1000,
  blrpScheduleDelayMillis: 1000,
  metricExportIntervalMillis: 3000,
  consoleFormat: "pretty",
});

/** Looks up one environment variable; `Deno.env.get` fits. */
export type EnvLookup = (name: string) => string | undefined;

/** A setting that cannot be used at all, such as a bad `PORT`. */
export class ConfigError extends Error {
  /** Names the class in stack traces and `String(error)`. */
  override name = "ConfigError";
}

/**
 * Reads {@linkcode Config} through `env`, calling `warn` once for each
 * variable that is set to a value it cannot use.
 *
 * @throws {ConfigError} when `PORT` is not a port number.
 */
export function readConfig(
  env: EnvLookup,
  warn: (message: string) => void,
): Config {
  return {
    port: readPort(env),
    bspScheduleDelayMillis: readMillis(
      env,
      warn,
      "OTEL_BSP_SCHEDULE_DELAY",
      DEFAULT_CONFIG.bspScheduleDelayMillis,
      0,
    ),
    blrpScheduleDelayMillis: readMillis(
      env,
      warn,
      "OTEL_BLRP_SCHEDULE_DELAY",
      DEFAULT_CONFIG.blrpScheduleDelayMillis,
      0,
    ),
    metricExportIntervalMillis: readMillis(
      env,
      warn,
      "OTEL_METRIC_EXPORT_INTERVAL",
      DEFAULT_CONFIG.metricExportIntervalMillis,
      1,
    ),
    consoleFormat: readEnum(
      env,
      warn,
      "DICE_CONSOLE_FORMAT",
      ["pretty", "compact"] as const,
      DEFAULT_CONFIG.consoleFormat,
    ),
  };
}

/** Returns the variable's value, or undefined when it is unset or blank. */
function readSet(env: EnvLookup, name: string): string | undefined {
  const value = env(name)?.trim();
  return value ? value : undefined;
}

function readPort(env: EnvLookup): number {
  const raw = readSet(env, "PORT");
  if (raw === undefined) return DEFAULT_CONFIG.port;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port <= 65535)) {
    throw new ConfigError(
      `PORT must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`,
    );
  }
  return port;
}

function readMillis(
  env: EnvLookup,
  warn: (message: string) => void,
  name: string,
  fallback: number,
  min: number,
): number {
  const raw = readSet(env, name);
  if (raw === undefined) return fallback;
  // Digits only: "1e3", "0x10" and "12ms" are typos here, not numbers.
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (value >= min) return value;
  const range = min === 0 ? "a non-negative" : `a positive`;
  warn(
    `${name} must be ${range} integer number of milliseconds, got ${
      JSON.stringify(raw)
    }; using ${fallback}`,
  );
  return fallback;
}

function readEnum<T extends string>(
  env: EnvLookup,
  warn: (message: string) => void,
  name: string,
  accepted: readonly T[],
  fallback: T,
): T {
  const raw = readSet(env, name);
  if (raw === undefined) return fallback;
  const value = accepted.find((candidate) => candidate === raw.toLowerCase());
  if (value !== undefined) return value;
  warn(
    `${name} must be one of ${accepted.join(", ")}, got ${
      JSON.stringify(raw)
    }; using ${fallback}`,
  );
  return fallback;
}

/**
 * Reports whether `OTEL_DENO` turns on Deno's built-in OpenTelemetry, which
 * registers its own global providers before any of our code runs.
 */
export function isDenoTelemetryEnabled(env: EnvLookup): boolean {
  // Deno accepts "true" in any case, untrimmed, and nothing else (not "1").
  return env("OTEL_DENO")?.toLowerCase() === "true";
}

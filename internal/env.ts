/**
 * The one reader of the service's environment variables, with the rules of
 * the OpenTelemetry SDK environment-variable specification: a blank value
 * means unset, enumerations are case-insensitive, and a value that cannot
 * be used is said in one line, naming the variable and what it accepts,
 * and replaced by the default.
 *
 * @module
 */

/** Looks up one environment variable; `Deno.env.get` fits. */
export type EnvLookup = (name: string) => string | undefined;

/** A setting the service must not start with, such as a bad `PORT`: exit 2. */
export class ConfigError extends Error {
  /** Names the class in stack traces and `String(error)`. */
  override name = "ConfigError";
}

/**
 * The longest time a millisecond setting may name: Deno's timers, like the
 * browsers', hold a signed 32-bit delay, and a longer one fires at once.
 */
export const MAX_MILLIS = 2 ** 31 - 1;

/** `raw` quoted as JSON, so that no control character reaches the terminal, and cut at 100 characters. */
export function shown(raw: string): string {
  return JSON.stringify(raw.length > 100 ? `${raw.slice(0, 100)}…` : raw);
}

/** A URL said back without the user and password it may carry. */
export function withoutCredentials(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, "$1…@");
}

/** Reads variables and reports each unusable one once through `warn`. */
export class EnvReader {
  readonly #said = new Set<string>();

  /** A reader of `env` that says what it cannot use through `warn`. */
  constructor(
    readonly env: EnvLookup,
    readonly warn: (message: string) => void,
  ) {}

  /** Says `message` once, however many signals read the same variable. */
  say(message: string): void {
    if (this.#said.has(message)) return;
    this.#said.add(message);
    this.warn(message);
  }

  /** The trimmed value, or undefined when unset or blank. */
  get(name: string): string | undefined {
    const value = this.env(name)?.trim();
    return value ? value : undefined;
  }

  /** Says that `name` must be `accepts`, and returns `fallback`. */
  reject<T>(name: string, raw: string, accepts: string, fallback: T): T {
    this.say(
      `${name} must be ${accepts}, got ${shown(raw)}; using ${
        Array.isArray(fallback) ? fallback.join(",") || "none" : fallback
      }`,
    );
    return fallback;
  }

  /**
   * A whole number of `unit` from `min` to `max`; milliseconds at most
   * {@linkcode MAX_MILLIS}.
   */
  integer(
    name: string,
    fallback: number,
    min: number,
    unit: string,
    max: number = unit === "milliseconds"
      ? MAX_MILLIS
      : Number.MAX_SAFE_INTEGER,
  ): number {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    // Digits only: "1e3", "0x10" and "12ms" are typos here, not numbers.
    const value = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
    if (value >= min && value <= max) return value;
    const accepts =
      (min === 0 ? "a non-negative integer" : "a positive integer") +
      ` number of ${unit}` +
      (max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : "");
    return this.reject(name, raw, accepts, fallback);
  }

  /** One of `accepted`, in any case. */
  oneOf<T extends string>(
    name: string,
    accepted: readonly T[],
    fallback: T,
  ): T {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    const value = accepted.find((candidate) => candidate === raw.toLowerCase());
    if (value !== undefined) return value;
    return this.reject(name, raw, `one of ${accepted.join(", ")}`, fallback);
  }

  /**
   * A comma-separated list of `accepted` names or `none`. Unknown entries
   * are reported in one line and skipped; when none is left, the default
   * is used.
   */
  list<T extends string>(
    name: string,
    accepted: readonly T[],
    fallback: readonly T[],
  ): T[] {
    const raw = this.get(name);
    if (raw === undefined) return [...fallback];
    const entries = raw.toLowerCase().split(",").map((entry) => entry.trim())
      .filter((entry) => entry !== "");
    const known = entries.filter((entry): entry is T =>
      (accepted as readonly string[]).includes(entry)
    );
    const unknown = entries.filter((entry) =>
      entry !== "none" && !known.includes(entry as T)
    );
    const chosen = [...new Set(known)];
    if (unknown.length === 0) return chosen;
    const kept = chosen.length > 0 ? chosen : [...fallback];
    this.say(
      `${name} accepts a comma-separated list of ${
        accepted.join(", ")
      } or none; ` +
        `${unknown.map((entry) => JSON.stringify(entry)).join(", ")} ${
          unknown.length === 1 ? "is" : "are"
        } not supported; using ${kept.join(",") || "none"}`,
    );
    return kept;
  }

  /** `true` or `false`, in any case; false when unset. */
  boolean(name: string): boolean {
    const raw = this.get(name);
    if (raw === undefined) return false;
    if (raw.toLowerCase() === "true") return true;
    if (raw.toLowerCase() === "false") return false;
    return this.reject(name, raw, "true or false", false);
  }
}

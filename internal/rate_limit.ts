/**
 * The service's one rate limiter for lines on stderr: a collector that is
 * down, a flood of connections or a full queue repeat the same news many
 * times a second, and printing all of it would bury everything else.
 *
 * Each key (a message, a kind of loss) may pass once per window; with
 * `maxPerWindow`, so many lines in all may pass per window, whatever their
 * keys. What does not pass is counted, for the caller to say later.
 *
 * @module
 */

/**
 * How long a repeated line about the same thing waits, by default: long
 * enough to keep a flood readable, short enough that a problem that lasts
 * is said again while someone watches.
 */
export const DEFAULT_WINDOW_MILLIS = 10_000;

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** How long after a line the same key waits for the next, in ms. */
  windowMillis: number;
  /**
   * Lines passed per window at most, whatever their keys.
   *
   * @default {Infinity}
   */
  maxPerWindow?: number;
  /**
   * The clock, in milliseconds.
   *
   * @default {performance.now}
   */
  now?: () => number;
}

interface Key {
  passedAt: number;
  held: number;
}

// Keys remembered at most; the oldest is forgotten first.
const MAX_KEYS = 256;

/** Lets a line about a key pass at most once per window. */
export class RateLimiter {
  readonly #windowMillis: number;
  readonly #maxPerWindow: number;
  readonly #now: () => number;
  readonly #keys = new Map<string, Key>();
  #windowStart = -Infinity;
  #passedInWindow = 0;
  #heldOverall = 0;

  /** A limiter with the given window. */
  constructor(options: RateLimiterOptions) {
    this.#windowMillis = options.windowMillis;
    this.#maxPerWindow = options.maxPerWindow ?? Infinity;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Whether a line about `key` may be written now. When it may not, it is
   * counted as held back: by key, or overall when the window's cap held it.
   */
  pass(key = ""): boolean {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMillis) {
      this.#windowStart = now;
      this.#passedInWindow = 0;
    }
    const seen = this.#keys.get(key);
    if (seen && now - seen.passedAt < this.#windowMillis) {
      seen.held++;
      return false;
    }
    if (this.#passedInWindow >= this.#maxPerWindow) {
      this.#heldOverall++;
      return false;
    }
    this.#passedInWindow++;
    // Moved to the end: the least recently passed key is forgotten first.
    this.#keys.delete(key);
    this.#keys.set(key, { passedAt: now, held: seen?.held ?? 0 });
    if (this.#keys.size > MAX_KEYS) {
      this.#keys.delete(this.#keys.keys().next().value!);
    }
    return true;
  }

  /** Milliseconds until a line about `key` may pass again; 0 when it may now. */
  waitMillis(key = ""): number {
    const seen = this.#keys.get(key);
    if (!seen) return 0;
    return Math.max(0, seen.passedAt + this.#windowMillis - this.#now());
  }

  /** How many lines about `key` were held back since asked last; resets it. */
  takeHeld(key = ""): number {
    const seen = this.#keys.get(key);
    if (!seen) return 0;
    const held = seen.held;
    seen.held = 0;
    return held;
  }

  /** The keys with lines held back, oldest first. */
  heldKeys(): string[] {
    return [...this.#keys].filter(([, seen]) => seen.held > 0).map(([k]) => k);
  }

  /** How many lines the window's cap held back since asked last; resets it. */
  takeHeldOverall(): number {
    const held = this.#heldOverall;
    this.#heldOverall = 0;
    return held;
  }
}

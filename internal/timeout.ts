/**
 * The service's one way to wait for something at most so long.
 *
 * @module
 */

/** What {@linkcode within} resolves to when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * `promise`'s value, or {@linkcode TIMED_OUT} once `millis` have passed
 * first; the timer is cleared either way, so it holds no process open.
 */
export async function within<T>(
  promise: Promise<T>,
  millis: number,
): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), millis);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A call that did not finish within its timeout. Its outcome is unknown: the method may or may not
 * have run (exactly once at most — a retry never runs it twice).
 *
 * @example
 * ```ts
 * try { await counter.increment(); } catch (e) { if (e instanceof TimeoutError) ... }
 * ```
 */
export class TimeoutError extends Error {
  override name = "Timeout";
}

/**
 * An exception thrown by the object's method on the replicas, with its original name and message
 * (`name` is e.g. `"InsufficientFunds"`, `"MethodNotFound"`).
 */
export class RemoteError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** No node of the bootstrap list could be reached, or the cluster refused the client. */
export class ConnectionError extends Error {
  override name = "ConnectionError";
}

/** The session was lost (expired or evicted): calls in flight have unknown outcomes. */
export class SessionExpiredError extends Error {
  override name = "SessionExpired";
}

import { Semaphore } from "./semaphore.ts";
import { ValueError } from "./shared.ts";

/**
 * A {@link Semaphore} that refuses to be released past its initial count (ConCoord's `BoundedSemaphore`
 * and `DBoundedSemaphore`, whose `release()` returned its error instead of raising it: here it raises).
 *
 * Everything else is the Semaphore's: fencing tokens, FIFO waiters, permits owned by client sessions and
 * returned when a session expires. The one difference is a release by a client holding no permit: when
 * every permit is already free (the count would go beyond the initial one) the call fails with
 * `ValueError: BoundedSemaphore released too many times`, as in Python; when some are held by other
 * clients it fails with `NotHolder`, as a Semaphore's would.
 *
 * @example
 * ```ts
 * const pool = client.object<BoundedSemaphore>("pool");
 * await pool.acquire();
 * await pool.release();
 * await pool.release(); // rejects: RemoteError ValueError "BoundedSemaphore released too many times"
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /** Only read, so clients may serve them without a log write. */
  static override readOnlyMethods = ["available"];

  /** The release would take the count past `permits`: Python's ValueError. */
  protected override _refuseRelease(clientId: number): Error {
    if (this.free >= this.permits)
      return new ValueError(
        `BoundedSemaphore released too many times (client ${clientId}; all ${this.permits} permits are free)`,
      );
    return super._refuseRelease(clientId);
  }
}

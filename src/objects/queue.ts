import { caller, park, type Waiter, wake } from "../object/api.ts";
import { checkWaiters, Empty, invariant, plainWaiter, withoutCall, withoutClient } from "./shared.ts";

/**
 * A FIFO queue whose `get()` waits for an item (ConCoord's `Queue`).
 *
 * - `put(item)` hands the item straight to the oldest waiting `get()` if there is one (so an item is
 *   never both queued and waited for), else appends it.
 * - `get()` takes the oldest item, or waits; waiting gets are served first come first served.
 * - `getNowait()` takes the oldest item or throws `Empty`; `peek()` shows it (or throws `Empty`).
 * - Items are any plain data a client can send.
 * - An expired session's waiting gets are dropped (they took nothing, so no item is lost), and so is a
 *   timed-out get.
 *
 * @example
 * ```ts
 * const jobs = client.object<Queue>("jobs");
 * await jobs.put({ url: "https://example.com" });
 * const next = await jobs.get(); // waits while the queue is empty
 * ```
 */
export class Queue {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["size", "empty", "peek"];

  /** Queued items, oldest first. */
  items: unknown[] = [];
  /** Waiting `get()` calls, oldest first; only while `items` is empty. */
  getters: Waiter[] = [];

  /**
   * Adds an item, or gives it to the oldest waiting `get()`.
   *
   * @example
   * ```ts
   * await queue.put("hello");
   * ```
   */
  put(item: unknown): void {
    const getter = this.getters.shift();
    if (getter !== undefined) wake(getter, item);
    else this.items.push(item);
    this._check();
  }

  /**
   * Takes the oldest item, waiting while the queue is empty.
   *
   * @example
   * ```ts
   * const item = await queue.get();
   * ```
   */
  get(): unknown {
    const me = caller();
    if (this.items.length > 0) return this.items.shift();
    this.getters.push(plainWaiter(me.waiter));
    this._check();
    return park();
  }

  /**
   * Takes the oldest item without waiting; throws `Empty` when there is none.
   *
   * @example
   * ```ts
   * const item = await queue.getNowait();
   * ```
   */
  getNowait(): unknown {
    if (this.items.length === 0) throw new Empty("the queue is empty");
    return this.items.shift();
  }

  /**
   * The oldest item, left in place; throws `Empty` when there is none.
   *
   * @example
   * ```ts
   * await queue.peek(); // "hello"
   * ```
   */
  peek(): unknown {
    if (this.items.length === 0) throw new Empty("the queue is empty");
    return this.items[0];
  }

  /**
   * How many items are queued.
   *
   * @example
   * ```ts
   * await queue.size(); // 2
   * ```
   */
  size(): number {
    return this.items.length;
  }

  /**
   * Whether no item is queued.
   *
   * @example
   * ```ts
   * await queue.empty(); // true
   * ```
   */
  empty(): boolean {
    return this.items.length === 0;
  }

  /** Hook: an expired client's waiting gets are dropped; they hold no item, so nothing is lost. */
  __concoordsessionexpired__(clientId: number): void {
    this.getters = withoutClient(this.getters, clientId);
  }

  /** Hook: a timed-out get leaves the line (its client gets a Timeout error from the host). */
  __concoordtimeout__(waiter: Waiter): void {
    this.getters = withoutCall(this.getters, waiter);
  }

  private _check(): void {
    checkWaiters(this.getters, undefined, "Queue");
    invariant(this.items.length === 0 || this.getters.length === 0, "nobody waits while items are queued");
  }
}

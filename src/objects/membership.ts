import { caller, type Parked, park, type Waiter, wake } from "../object/api.ts";
import { checkWaiters, integerArg, plainWaiter, stringArg, withoutCall, withoutClient } from "./shared.ts";

/** The members at one version, as `waitForChange` returns them. */
export interface MembershipView {
  readonly version: number;
  /** Sorted. */
  readonly members: string[];
}

/**
 * A group membership list with change notification (ConCoord's `Membership`): the building block of
 * service discovery and failure handling, where every client must see the same membership.
 *
 * - `add(member)` and `remove(member)` change the set; a change bumps `version()`, a no-op does not.
 * - `waitForChange(knownVersion)` returns `{ version, members }` at once when the version differs from
 *   `knownVersion`, and otherwise waits for the next change. Every waiting call is woken on each change,
 *   so a watcher loops: `view = await waitForChange(view.version)`.
 * - An expired session's waiting calls are dropped, and so is a timed-out one. (Members are names, not
 *   sessions: an expired client is not removed from the list; use a `Lock` per member for that.)
 *
 * @example
 * ```ts
 * const group = client.object<Membership>("group");
 * await group.add("10.0.0.7:8080");
 * let view = await group.waitForChange(-1); // the current view, at once
 * view = await group.waitForChange(view.version); // waits for the next change
 * ```
 */
export class Membership {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["list", "version"];

  /** The members. */
  members = new Set<string>();
  /** How many changes there have been. */
  changes = 0;
  /** Calls waiting for the next change. */
  watchers: Waiter<MembershipView>[] = [];

  /**
   * Adds a member (a non-empty string); returns whether it was new.
   *
   * @example
   * ```ts
   * await group.add("node-1"); // true
   * ```
   */
  add(member: string): boolean {
    const name = stringArg(member, "member");
    if (this.members.has(name)) return false;
    this.members.add(name);
    this._changed();
    return true;
  }

  /**
   * Removes a member; returns whether it was there.
   *
   * @example
   * ```ts
   * await group.remove("node-1"); // true
   * ```
   */
  remove(member: string): boolean {
    const name = stringArg(member, "member");
    if (!this.members.delete(name)) return false;
    this._changed();
    return true;
  }

  /**
   * The members, sorted.
   *
   * @example
   * ```ts
   * await group.list(); // ["node-1", "node-2"]
   * ```
   */
  list(): string[] {
    return [...this.members].sort();
  }

  /**
   * The current version: 0 before the first change, then one more per change.
   *
   * @example
   * ```ts
   * await group.version(); // 2
   * ```
   */
  version(): number {
    return this.changes;
  }

  /**
   * The current view when its version is not `knownVersion`; otherwise waits for the next change and
   * returns the view after it.
   *
   * @example
   * ```ts
   * const view = await group.waitForChange(2); // { version: 3, members: [...] }
   * ```
   */
  waitForChange(knownVersion: number): MembershipView | Parked<MembershipView> {
    const me = caller();
    // Any integer: -1 is a handy "I know nothing yet".
    const known = integerArg(knownVersion, "knownVersion", Number.MIN_SAFE_INTEGER);
    if (known !== this.changes) return this._view();
    this.watchers.push(plainWaiter<MembershipView>(me.waiter));
    checkWaiters(this.watchers, undefined, "Membership");
    return park<MembershipView>();
  }

  /** Hook: an expired client's waiting calls are dropped (its membership entries are not touched). */
  __concoordsessionexpired__(clientId: number): void {
    this.watchers = withoutClient(this.watchers, clientId);
  }

  /** Hook: a timed-out call stops watching (its client gets a Timeout error from the host). */
  __concoordtimeout__(waiter: Waiter): void {
    this.watchers = withoutCall(this.watchers, waiter);
  }

  private _view(): MembershipView {
    return { version: this.changes, members: this.list() };
  }

  /** Bumps the version and wakes every watcher with the new view. */
  private _changed(): void {
    this.changes += 1;
    const watchers = this.watchers;
    this.watchers = [];
    const view = this._view();
    for (const watcher of watchers) wake(watcher, view);
  }
}

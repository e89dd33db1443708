import { assert } from "../core/assert.ts";

/**
 * Connections answered with at least this many replies in one flush count as busy: a client that had
 * several calls in flight at once and has none left is about to send its next ones. A connection that
 * had one call in flight may be a client with think time, and waiting for it would cost others.
 */
export const HOLD_REPLIES_MIN = 4;

/**
 * The longest a command waits for the rest of its group: one timer of the event loop (it fires after at
 * least this long, about a slot's round on loopback). Past it every held command is proposed.
 */
export const HOLD_MS = 1;

/**
 * Keeps the commands of clients answered together in one slot.
 *
 * The leader answers a slot's commands in one flush, but the clients' next commands come back over
 * their own connections tens to hundreds of microseconds apart, and the first to arrive would be
 * proposed alone: under a steady load the slots split into small groups that stay split, each with its
 * own sync on every member and its own round of messages. So after a flush that answered several busy
 * connections (see {@link HOLD_REPLIES_MIN}), a command is held while any of them has not sent again,
 * and the held commands are proposed together, in the order they came, when the last one has, when a
 * held connection closes, or after {@link HOLD_MS}, whichever comes first. Commands only: a read takes
 * no slot and is never held, but a connection that sends one has come back.
 *
 * @example
 * ```ts
 * const hold = new ReplyGroupHold<Conn, Command>({ holdMs: HOLD_MS, propose: (held) => held.forEach(submit) });
 * hold.answered(new Map([[a, 16], [b, 16]]), (conn) => outstanding(conn) === 0);
 * if (!hold.command(a, command)) submit(command); // taken: proposed with b's
 * ```
 */
export class ReplyGroupHold<Conn, Command> {
  /** Busy connections answered together that have not sent since. */
  readonly #awaited = new Set<Conn>();
  #held: Command[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #holdMs: number;
  readonly #propose: (held: readonly Command[]) => void;
  /** Holds that ended by the timer, not by every awaited connection coming back. */
  timeouts = 0;
  /** Holds that ended because every awaited connection came back (or stopped being awaited). */
  completed = 0;

  constructor(options: { holdMs: number; propose: (held: readonly Command[]) => void }) {
    assert(options.holdMs >= 0, "holdMs must not be negative");
    this.#holdMs = options.holdMs;
    this.#propose = options.propose;
  }

  /** Commands waiting now. */
  get heldCount(): number {
    return this.#held.length;
  }

  /**
   * A flush answered `replies` calls per connection; `idle` says whether a connection has none left in
   * flight. Busy idle connections join the awaited group when they are two or more, or when a group is
   * already awaited (so that groups split by earlier rounds merge).
   */
  answered(replies: ReadonlyMap<Conn, number>, idle: (conn: Conn) => boolean): void {
    const busy: Conn[] = [];
    for (const [conn, count] of replies) if (count >= HOLD_REPLIES_MIN && idle(conn)) busy.push(conn);
    if (busy.length >= 2 || (busy.length === 1 && this.#awaited.size > 0)) {
      for (const conn of busy) this.#awaited.add(conn);
    }
  }

  /**
   * A command from `conn`. True when the hold took it: `propose` gets it, now (with what waited, when
   * `conn` was the last awaited) or later. False: nothing waits, and the caller proposes it itself.
   */
  command(conn: Conn, command: Command): boolean {
    this.#awaited.delete(conn);
    if (this.#awaited.size > 0) {
      this.#held.push(command);
      this.#timer ??= setTimeout(this.#onTimeout, this.#holdMs);
      return true;
    }
    if (this.#held.length > 0) {
      // The last of the group: what waited goes first, so each connection's commands keep their order.
      this.#held.push(command);
      this.completed++;
      this.#release();
      return true;
    }
    return false;
  }

  /** Nothing is to be awaited from `conn`: it sent a read (it came back without a command), or it closed. */
  stopAwaiting(conn: Conn): void {
    this.#awaited.delete(conn);
    if (this.#awaited.size === 0 && this.#held.length > 0) {
      this.completed++;
      this.#release();
    }
  }

  /** Drops what is held without proposing it (the node is stopping). */
  clear(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#awaited.clear();
    this.#held = [];
  }

  readonly #onTimeout = (): void => {
    this.#timer = null;
    this.timeouts++;
    this.#release();
  };

  #release(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    // Whoever has not come back by now is not waited for again until a later flush answers it.
    this.#awaited.clear();
    const held = this.#held;
    this.#held = [];
    assert(held.length > 0, "a release proposes something");
    this.#propose(held);
  }
}

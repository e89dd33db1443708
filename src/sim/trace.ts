import type { Ballot } from "../core/ballot.ts";
import { formatBallot } from "../core/ballot.ts";
import type { Batch } from "../core/command.ts";
import type { Message } from "../core/messages.ts";

/**
 * A replay aid: with `npm run sim -- --seed S --trace [--trace-slot N]` a failing seed tells its story —
 * crashes, role changes, membership decisions, divergence — and, for slot N, every message about it.
 * Off (the default) it costs one branch per event.
 *
 * @example
 * ```ts
 * const trace = new SimTrace({ sink: (line) => console.error(line), slot: 54 });
 * trace.event(now, "crash 3");
 * ```
 */
export class SimTrace {
  readonly #sink: ((line: string) => void) | null;
  readonly #slot: number | null;

  constructor(options: { sink: ((line: string) => void) | null; slot?: number | null }) {
    this.#sink = options.sink;
    this.#slot = options.slot ?? null;
  }

  get enabled(): boolean {
    return this.#sink !== null;
  }

  event(nowMs: number, text: string): void {
    this.#sink?.(`${nowMs.toFixed(1).padStart(9)} ${text}`);
  }

  /** Logs a delivered message if it concerns the traced slot (or is phase 1, which concerns every slot). */
  message(nowMs: number, from: number, to: number, message: Message): void {
    if (!this.#sink || this.#slot === null) return;
    const slot = this.#slot;
    const b = (x: Ballot) => formatBallot(x);
    const v = (x: Batch) =>
      `${x.timeMs.toFixed(1)}/${x.commands.map((c) => `${c.clientId}:${c.seq}`).join(",")}`;
    const head = `${message.type} ${from}->${to}`;
    switch (message.type) {
      case "prepare":
        this.event(nowMs, `${head} b=${b(message.ballot)} from=${message.fromSlot}`);
        return;
      case "promise": {
        const e = message.accepted.find((x) => x.slot === slot);
        const has = e ? `${b(e.ballot)}:${v(e.value)}` : "-";
        this.event(nowMs, `${head} b=${b(message.ballot)} slot=${has} covered=${message.coveredThrough}`);
        return;
      }
      case "accept": {
        const e = message.entries.find((x) => x.slot === slot);
        if (e)
          this.event(
            nowMs,
            `${head} b=${b(message.ballot)} slot=${v(e.value)} commit=${message.commitThrough}`,
          );
        return;
      }
      case "learn": {
        const e = message.entries.find((x) => x.slot === slot);
        if (e || message.snapshot)
          this.event(nowMs, `${head} snapshot=${message.snapshot?.slot ?? "-"} slot=${e ? v(e.value) : "-"}`);
        return;
      }
      default:
        return;
    }
  }
}

/** The trace that prints nothing. */
export const NO_TRACE = new SimTrace({ sink: null });

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Command, Reply } from "../../src/core/command.ts";
import { makeConfig } from "../../src/core/config.ts";
import { resolveLimits } from "../../src/core/limits.ts";
import { NO_BUGS } from "../../src/core/planted-bugs.ts";
import { ReplicatedState } from "../../src/core/replicated-state.ts";
import { encodeJson, KvMachine } from "../../src/sim/kv-machine.ts";

/** One call of the session: a seq, how far it acknowledges, and whether it parks (`take`) or wakes (`put`). */
interface Step {
  readonly seq: number;
  readonly ackedThrough: number;
  readonly kind: "inc" | "take" | "put";
}

const step: fc.Arbitrary<Step> = fc.record({
  seq: fc.integer({ min: 1, max: 60 }),
  // Mostly small steps past what is in flight, sometimes a jump far ahead (even past the call's own seq).
  ackedThrough: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 60 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_000_000 }) },
  ),
  kind: fc.constantFrom("inc", "inc", "take", "put"),
});

/**
 * The session's reply cache as it was first specified: after every call, drop each cached reply at or
 * below the highest acknowledgement seen; a call runs once and its reply is kept until acknowledged.
 */
class ReplyCacheModel {
  ackedThrough = 0;
  readonly cached = new Set<number>();
  readonly parked = new Set<number>();
  /** Parked seqs in the order `take` queued them (a `put` wakes the oldest). */
  readonly takers: number[] = [];
  /** Values put while nobody waited: a later take gets one at once. */
  queued = 0;

  apply(s: Step): void {
    if (s.ackedThrough > this.ackedThrough) {
      this.ackedThrough = s.ackedThrough;
      for (const seq of this.cached) if (seq <= this.ackedThrough) this.cached.delete(seq);
    }
    if (s.seq <= this.ackedThrough || this.parked.has(s.seq) || this.cached.has(s.seq)) return;
    if (s.kind === "take" && this.queued === 0) {
      this.parked.add(s.seq);
      this.takers.push(s.seq);
      return;
    }
    this.cached.add(s.seq);
    if (s.kind === "take") this.queued--;
    if (s.kind !== "put") return;
    const woken = this.takers.shift();
    if (woken === undefined) {
      this.queued++;
      return;
    }
    this.parked.delete(woken);
    if (woken > this.ackedThrough) this.cached.add(woken);
  }
}

function command(clientId: number, s: Step): Command {
  // One queue for every take and put, so that a put wakes the oldest parked take.
  const op =
    s.kind === "inc"
      ? { t: "inc", k: "c" }
      : s.kind === "take"
        ? { t: "take", k: "q" }
        : { t: "put", k: "q", v: s.seq };
  return { clientId, seq: s.seq, ackedThrough: s.ackedThrough, body: { kind: "op", op: encodeJson(op) } };
}

test("a session's cached replies are exactly those not yet acknowledged, whatever the acknowledgements", () => {
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => {
      const state = new ReplicatedState({
        machine: new KvMachine(),
        limits: resolveLimits(),
        bugs: NO_BUGS,
        config: makeConfig([{ id: 1, acceptor: true, replica: true }]),
      });
      let slot = 1;
      const opened = state.applyBatch(slot, {
        timeMs: 1,
        seed: 1,
        commands: [{ clientId: 0, seq: 1, ackedThrough: 0, body: { kind: "open" } }],
      });
      const reply = opened[0]?.reply as Reply & { sessionId?: number };
      assert.ok(reply.ok && reply.sessionId !== undefined);
      const clientId = reply.sessionId;
      const model = new ReplyCacheModel();
      for (const s of steps) {
        slot++;
        state.applyBatch(slot, { timeMs: slot, seed: slot, commands: [command(clientId, s)] });
        model.apply(s);
        for (let seq = 1; seq <= 60; seq++) {
          assert.equal(
            state.cachedReply(clientId, seq) !== undefined,
            model.cached.has(seq),
            `seq ${seq} after ${JSON.stringify(s)}`,
          );
        }
      }
    }),
    { numRuns: 300 },
  );
});

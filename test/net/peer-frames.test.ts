import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Packr } from "msgpackr";
import type { Batch } from "../../src/core/command.ts";
import type { AcceptedMessage, AcceptMessage } from "../../src/core/messages.ts";
import { encodedBatch } from "../../src/encoding/batch-bytes.ts";
import { MsgpackReader } from "../../src/encoding/msgpack-reader.ts";
import { MsgpackWriter } from "../../src/encoding/msgpack-writer.ts";
import { decodeFrame, encodeFrame } from "../../src/net/frame-codec.ts";
import type { Frame } from "../../src/net/frames.ts";
import { readRoundPeerFrame } from "../../src/net/peer-frames.ts";
import { mutate, mutationArb } from "../encoding/damage.ts";
import { withPlainBatches } from "../encoding/plain-batches.ts";

/** What the peer codec used for every frame before: the bytes the round's messages must keep. */
const packr = new Packr({ useRecords: false, variableMapSize: true });

/** Plain objects only: msgpackr writes a null-prototype object differently, and the core never makes one. */
const PLAIN = { noNullPrototype: true } as const;
const natArb = fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: 2 ** 32 + 5 }), fc.maxSafeNat());
const ballotArb = fc.record({ round: natArb, nodeId: natArb }, PLAIN);
/** Batches of operations only (what clients write), and now and then one with a session command. */
const batchArb: fc.Arbitrary<Batch> = fc.record(
  {
    timeMs: fc.oneof(
      fc.nat(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x)),
    ),
    seed: fc.nat(),
    commands: fc.array(
      fc.oneof(
        {
          weight: 9,
          arbitrary: fc.record(
            {
              clientId: natArb,
              seq: natArb,
              ackedThrough: natArb,
              body: fc.record(
                { kind: fc.constant("op" as const), op: fc.uint8Array({ maxLength: 40 }) },
                PLAIN,
              ),
            },
            PLAIN,
          ),
        },
        {
          weight: 1,
          arbitrary: fc.record(
            {
              clientId: natArb,
              seq: natArb,
              ackedThrough: natArb,
              body: fc.constant({ kind: "open" as const }),
            },
            PLAIN,
          ),
        },
      ),
      { maxLength: 20 },
    ),
  },
  PLAIN,
);
const acceptArb: fc.Arbitrary<AcceptMessage> = fc.record(
  {
    type: fc.constant("accept" as const),
    ballot: ballotArb,
    entries: fc.array(fc.record({ slot: natArb, value: batchArb }, PLAIN), { maxLength: 3 }),
    commitThrough: natArb,
    compactThrough: natArb,
  },
  PLAIN,
);
const acceptedArb: fc.Arbitrary<AcceptedMessage> = fc.record(
  {
    type: fc.constant("accepted" as const),
    ballot: ballotArb,
    slots: fc.array(natArb, { maxLength: 20 }),
  },
  PLAIN,
);
const roundFrameArb: fc.Arbitrary<Frame> = fc
  .oneof(acceptArb, acceptedArb)
  .map((m) => ({ t: "peer" as const, m }));

/** The frame as msgpackr wrote it, batches as their bytes. */
function packedByMsgpackr(frame: Frame): Uint8Array {
  if (frame.t !== "peer" || frame.m.type !== "accept") return packr.pack(frame);
  const m = frame.m;
  return packr.pack({
    t: "peer",
    m: { ...m, entries: m.entries.map((e) => ({ slot: e.slot, value: encodedBatch(e.value) })) },
  });
}

/**
 * The same frame with its outer map header widened to map16: msgpackr reads it identically, and the
 * field-by-field reader, which takes only the header msgpackr writes, leaves it to the general path.
 */
function viaGeneralPath(bytes: Uint8Array): Frame {
  assert.equal(bytes[0], 0x82);
  const widened = new Uint8Array(bytes.length + 2);
  widened.set([0xde, 0x00, 0x02]);
  widened.set(bytes.subarray(1), 3);
  assert.equal(readRoundPeerFrame(widened), null);
  return decodeFrame(widened);
}

describe("round peer frames", () => {
  it("are written byte for byte as msgpackr writes them, and read back as they were", () => {
    fc.assert(
      fc.property(roundFrameArb, (frame) => {
        const bytes = encodeFrame(frame);
        assert.deepEqual(bytes, new Uint8Array(packedByMsgpackr(frame)));
        assert.deepStrictEqual(withPlainBatches(decodeFrame(bytes)), frame);
        assert.deepStrictEqual(withPlainBatches(viaGeneralPath(bytes)), frame);
      }),
      { numRuns: 500 },
    );
  });

  it("are read field by field when their batches are all operations, and by the general path otherwise", () => {
    const op = { kind: "op" as const, op: Uint8Array.of(1, 2, 3) };
    const accept = (body: Batch["commands"][number]["body"]): Frame => ({
      t: "peer",
      m: {
        type: "accept",
        ballot: { round: 3, nodeId: 1 },
        entries: [
          {
            slot: 9,
            value: { timeMs: 5, seed: 7, commands: [{ clientId: 1, seq: 2, ackedThrough: 1, body }] },
          },
        ],
        commitThrough: 8,
        compactThrough: 0,
      },
    });
    assert.deepStrictEqual(withPlainBatches(readRoundPeerFrame(encodeFrame(accept(op)))), accept(op));
    assert.equal(readRoundPeerFrame(encodeFrame(accept({ kind: "open" }))), null);
    assert.deepStrictEqual(decodeFrame(encodeFrame(accept({ kind: "open" }))), accept({ kind: "open" }));
    const accepted: Frame = {
      t: "peer",
      m: { type: "accepted", ballot: { round: 3, nodeId: 1 }, slots: [9, 10] },
    };
    assert.deepStrictEqual(readRoundPeerFrame(encodeFrame(accepted)), accepted);
    // A batch read this way keeps the bytes it came in, for the log: they are not encoded again (its op
    // views those very bytes).
    const sent = accept(op);
    const decoded = readRoundPeerFrame(encodeFrame(sent));
    if (decoded?.m.type !== "accept" || sent.t !== "peer" || sent.m.type !== "accept")
      assert.fail("an accept");
    const batch = decoded.m.entries[0]!.value;
    assert.deepEqual(encodedBatch(batch), encodedBatch(sent.m.entries[0]!.value));
    const body = batch.commands[0]!.body;
    if (body.kind !== "op") assert.fail("an op");
    assert.equal(encodedBatch(batch).buffer, body.op.buffer);
  });

  it("a damaged frame is read as the general path reads it, or left to it; never a throw", () => {
    const samples = fc.sample(roundFrameArb, { numRuns: 40, seed: 7 }).map((f) => encodeFrame(f));
    fc.assert(
      fc.property(fc.constantFrom(...samples), mutationArb, (original, mutations) => {
        // The first byte stays: it is what sends a payload to the field-by-field reader at all.
        const bytes = mutate(original, mutations, 1);
        const fast = readRoundPeerFrame(bytes);
        if (fast === null) return;
        assert.deepStrictEqual(withPlainBatches(viaGeneralPath(bytes)), withPlainBatches(fast));
      }),
      { numRuns: 4000 },
    );
  });
});

describe("map headers", () => {
  it("are written as msgpackr writes them and read back, at every width", () => {
    for (const size of [0, 1, 15, 16, 65_535, 65_536]) {
      const object = Object.fromEntries(Array.from({ length: size }, (_, i) => [`k${i}`, i]));
      const w = new MsgpackWriter();
      w.map(size);
      for (let i = 0; i < size; i++) {
        w.string(`k${i}`);
        w.number(i);
      }
      const bytes = w.take();
      assert.deepEqual(bytes, new Uint8Array(packr.pack(object)), `map of ${size}`);
      const r = new MsgpackReader(bytes);
      assert.equal(r.mapLength(), size);
      if (size > 0) assert.equal(r.fixstr("k0"), true);
      assert.equal(new MsgpackReader(Uint8Array.of(0x90)).mapLength(), -1, "an array is no map");
      assert.equal(new MsgpackReader(Uint8Array.of(0xde, 0x00)).mapLength(), -1, "a cut header");
    }
  });

  it("fixstr matches only the exact string, and reads nothing otherwise", () => {
    const bytes = new Uint8Array(packr.pack(["peer", "pee", "peers"]));
    const r = new MsgpackReader(bytes);
    assert.equal(r.arrayLength(), 3);
    assert.equal(r.fixstr("pee"), false);
    assert.equal(r.fixstr("peers"), false);
    assert.equal(r.fixstr("peer"), true);
    assert.equal(r.fixstr("peer"), false);
    assert.equal(r.fixstr("pee"), true);
    assert.equal(new MsgpackReader(Uint8Array.of(0xa4, 0x70)).fixstr("peer"), false, "cut short");
  });
});

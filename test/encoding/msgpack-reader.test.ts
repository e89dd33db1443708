import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Packr } from "msgpackr";
import type { Batch, Command } from "../../src/core/command.ts";
import {
  decodeBatchBytes,
  encodedBatch,
  expandBatch,
  isCheckedBatch,
} from "../../src/encoding/batch-bytes.ts";
import { ARRAY_LENGTH_MAX, MsgpackReader, NOT_NATURAL } from "../../src/encoding/msgpack-reader.ts";
import { expandCompactFrame, readCompactCommand } from "../../src/net/compact-frames.ts";
import { decodeFrame, encodeFrame } from "../../src/net/frame-codec.ts";
import { BadFrameError, validateFrame } from "../../src/net/validate.ts";
import { mutate, mutationArb } from "./damage.ts";
import { withPlainBatches } from "./plain-batches.ts";

const packr = new Packr({ useRecords: false, variableMapSize: true });
const generic = new Packr({ useRecords: false, mapsAsObjects: true });

/** Numbers of every width msgpack has, as msgpackr writes them (and as other encoders might). */
const numberArb = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(
    0,
    127,
    128,
    255,
    256,
    65_535,
    65_536,
    2 ** 32,
    2 ** 53,
    -1,
    -33,
    0.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ),
);

/** Other encoders' choices for a number: signed widths for non-negative values, float64 for integers. */
function otherEncodings(value: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const f64 = Buffer.alloc(9);
  f64[0] = 0xcb;
  f64.writeDoubleBE(value, 1);
  out.push(f64);
  if (Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) {
    const i32 = Buffer.alloc(5);
    i32[0] = 0xd2;
    i32.writeInt32BE(value, 1);
    out.push(i32);
  }
  return out;
}

describe("msgpack reader", () => {
  it("reads naturals and finite numbers exactly when msgpackr reads such a number, whatever the width", () => {
    fc.assert(
      fc.property(numberArb, (value) => {
        for (const bytes of [new Uint8Array(packr.pack(value)), ...otherEncodings(value)]) {
          const decoded = generic.unpack(bytes) as number;
          const natural = new MsgpackReader(bytes).natural();
          if (Number.isSafeInteger(decoded) && decoded >= 0) assert.equal(natural, decoded);
          else assert.equal(natural, NOT_NATURAL);
          const finite = new MsgpackReader(bytes).finite();
          assert.equal(finite, Number.isFinite(decoded) ? decoded : undefined);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("does not read an array longer than the wire's bound, which the validator would refuse", () => {
    const header = (length: number) => {
      const bytes = Buffer.alloc(5);
      bytes[0] = 0xdd;
      bytes.writeUInt32BE(length, 1);
      return new Uint8Array(bytes);
    };
    assert.equal(new MsgpackReader(header(ARRAY_LENGTH_MAX)).arrayLength(), ARRAY_LENGTH_MAX);
    assert.equal(new MsgpackReader(header(ARRAY_LENGTH_MAX + 1)).arrayLength(), -1);
    // So a batch claiming more commands than that goes to the general path, whose validator names it.
    const batch = new Uint8Array([0x93, 0x01, 0x02, ...header(ARRAY_LENGTH_MAX + 1)]);
    assert.equal(isCheckedBatch(decodeOrNull(batch)), false);
  });

  it("reads arrays and byte strings of every header width, and says no past the end instead of throwing", () => {
    for (const length of [0, 15, 16, 300, 70_000]) {
      const bytes = new Uint8Array(
        packr.pack([new Uint8Array(length).fill(5), Array.from({ length }, () => 1)]),
      );
      const r = new MsgpackReader(bytes);
      assert.equal(r.arrayLength(), 2);
      assert.deepEqual(r.bytesView(), new Uint8Array(length).fill(5));
      assert.equal(r.arrayLength(), length);
      for (let i = 0; i < length; i++) assert.equal(r.natural(), 1);
      assert.ok(r.atEnd());
      for (let cut = 0; cut < Math.min(bytes.length, 40); cut++) {
        // A cut input: every read says no (or reads what is whole), none throws or reads past the end.
        const short = new MsgpackReader(bytes.subarray(0, cut));
        short.arrayLength();
        const view = short.bytesView();
        assert.ok(view === null || view.length === length, `cut ${cut} of ${bytes.length}`);
        short.arrayLength();
        short.natural();
      }
    }
    const empty = new MsgpackReader(new Uint8Array(0));
    assert.equal(empty.arrayLength(), -1);
    assert.equal(empty.natural(), NOT_NATURAL);
    assert.equal(empty.nil(), false);
    assert.equal(empty.bytesView(), null);
  });
});

const opCommandArb: fc.Arbitrary<Command> = fc
  .record({
    clientId: fc.oneof(fc.nat(1000), fc.maxSafeNat()),
    seq: fc.nat(),
    ackedThrough: fc.nat(),
    op: fc.uint8Array({ maxLength: 70 }),
    timeoutMs: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ clientId, seq, ackedThrough, op, timeoutMs }) => ({
    clientId,
    seq,
    ackedThrough,
    body: { kind: "op", op },
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  }));

const batchArb: fc.Arbitrary<Batch> = fc
  .record({
    timeMs: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x)),
    seed: fc.nat(),
    commands: fc.array(opCommandArb, { maxLength: 6 }),
  })
  .map((b) => ({ ...b }));

/** The validator's verdict on a batch read by msgpackr, wrapped in an accept (validation is of frames). */
function validBatch(value: unknown): boolean {
  try {
    validateFrame({
      t: "peer",
      m: {
        type: "accept",
        ballot: { round: 1, nodeId: 1 },
        entries: [{ slot: 1, value }],
        commitThrough: 0,
        compactThrough: 0,
      },
    });
    return true;
  } catch (error) {
    assert.ok(error instanceof BadFrameError);
    return false;
  }
}

describe("fast reading of batches and command frames", () => {
  it("reads every batch of operations field by field, as msgpackr and the validator would", () => {
    fc.assert(
      fc.property(batchArb, (batch) => {
        const bytes = encodedBatch({ ...batch });
        const read = decodeBatchBytes(bytes);
        assert.ok(isCheckedBatch(read));
        assert.deepEqual(withPlainBatches(read), batch);
        assert.deepEqual(withPlainBatches(read), expandBatch(generic.unpack(bytes)));
      }),
      { numRuns: 300 },
    );
  });

  it("accepts a damaged batch only where msgpackr reads the same batch and the validator accepts it", () => {
    fc.assert(
      fc.property(batchArb, mutationArb, (batch, mutations) => {
        const bytes = mutate(encodedBatch({ ...batch }), mutations);
        let read: unknown;
        try {
          read = decodeBatchBytes(bytes);
        } catch {
          return; // not msgpack: refused
        }
        if (!isCheckedBatch(read)) return; // left to the validator
        const slow = expandBatch(generic.unpack(bytes));
        assert.ok(validBatch(slow), "the fast path accepted what the validator refuses");
        assert.deepEqual(withPlainBatches(read), slow);
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts a damaged command frame only where the general path reads the same frame", () => {
    fc.assert(
      fc.property(fc.nat(), opCommandArb, mutationArb, (id, command, mutations) => {
        const bytes = mutate(encodeFrame({ t: "command", id, command }), mutations);
        const fast = readCompactCommand(bytes);
        if (fast === null) return;
        const slow = validateFrame(expandCompactFrame(generic.unpack(bytes) as unknown[]));
        assert.deepEqual(fast, slow);
        assert.deepEqual(decodeFrame(bytes), slow);
      }),
      { numRuns: 2000 },
    );
  });

  it("leaves batches with other commands, and frames of other kinds, to the general path", () => {
    const mixed: Batch = {
      timeMs: 5,
      seed: 1,
      commands: [{ clientId: 0, seq: 1, ackedThrough: 0, body: { kind: "open", ttlMs: 5000 } }],
    };
    const read = decodeBatchBytes(encodedBatch(mixed));
    assert.equal(isCheckedBatch(read), false);
    assert.deepEqual(read, mixed);
    assert.equal(readCompactCommand(encodeFrame({ t: "read", id: 1, query: new Uint8Array([1]) })), null);
    const own = readCompactCommand(
      encodeFrame({
        t: "command",
        id: 3,
        command: { clientId: 1, seq: 1, ackedThrough: 0, body: { kind: "op", op: new Uint8Array([9]) } },
      }),
    );
    assert.ok(own !== null && own.command.body.kind === "op");
    assert.notEqual(own.command.body.op.buffer.byteLength, 0);
  });
});

/** What decodeBatchBytes makes of `bytes`, or null when msgpackr refuses them (here: cut short). */
function decodeOrNull(bytes: Uint8Array): unknown {
  try {
    return decodeBatchBytes(bytes);
  } catch {
    return null;
  }
}

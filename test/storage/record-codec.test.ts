import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Packr } from "msgpackr";
import type { Batch } from "../../src/core/command.ts";
import { encodedBatch } from "../../src/encoding/batch-bytes.ts";
import type { WalRecord } from "../../src/storage/record-codec.ts";
import {
  decodeValue,
  encodeFrame,
  encodeValue,
  FRAME_HEADER_BYTES,
  framePayload,
  readFrame,
} from "../../src/storage/record-codec.ts";
import { concatBytes, encodeBatch, scanSegment } from "../../src/storage/wal.ts";
import { accept, everyKind } from "./helpers.ts";

const MAX = 1024 * 1024;

function commit(throughSlot: number): WalRecord {
  return { kind: "commit", throughSlot };
}

/** Three batches (1, 2, 3 frames) and the offsets where each batch starts. */
function threeBatches(): { bytes: Uint8Array; starts: number[] } {
  const parts = [
    encodeBatch(1, [commit(1)]),
    encodeBatch(2, [commit(2), commit(3)]),
    encodeBatch(3, [commit(4), commit(5), commit(6)]),
  ];
  const starts = [0, parts[0]!.length, parts[0]!.length + parts[1]!.length];
  return { bytes: concatBytes(parts), starts };
}

function scanNewest(bytes: Uint8Array) {
  return scanSegment(bytes, { isNewest: true, previous: null, recordBytesMax: MAX });
}

describe("record codec", () => {
  it("round-trips byte strings as plain Uint8Array, nested values, infinities and large integers", () => {
    const value = {
      bytes: new Uint8Array([0, 1, 255]),
      nested: [[1, [2, { deep: new Uint8Array(3) }]], { a: [] }],
      inf: Infinity,
      negInf: -Infinity,
      maxSafe: Number.MAX_SAFE_INTEGER,
      minSafe: Number.MIN_SAFE_INTEGER,
      over32: 2 ** 32 + 1,
      fraction: 0.1,
      text: "héllo",
      missing: undefined,
      nil: null,
    };
    const back = decodeValue(encodeValue(value)) as typeof value;
    assert.deepStrictEqual(back, value);
    assert.equal(back.bytes.constructor, Uint8Array, "a byte string must not come back as a Buffer");
  });

  it("embeds a batch's bytes as encoded once, and reads back as the record encoded whole", () => {
    const value: Batch = {
      timeMs: 1_700_000_000_000,
      seed: 9,
      commands: [
        { clientId: 1, seq: 2, ackedThrough: 1, body: { kind: "op", op: new Uint8Array([1, 2, 3]) } },
      ],
    };
    const bytes = encodedBatch(value);
    assert.equal(encodedBatch(value), bytes, "encoded once, then remembered");
    const records: WalRecord[] = [
      { kind: "accept", pvalue: { slot: 4, ballot: { round: 1, nodeId: 2 }, value } },
      { kind: "decide", slot: 4, value },
    ];
    for (const record of records) {
      const frame = encodeFrame({ seq: 7, final: false, record });
      assert.deepEqual(frame.subarray(frame.length - bytes.length), bytes, "the batch's bytes, verbatim");
      const read = readFrame(frame, 0, MAX);
      assert.ok(read.ok, read.ok ? "" : read.reason);
      assert.deepStrictEqual(read.frame, { seq: 7, final: false, record });
      // A log written before batches were arrays holds them as maps: it reads back the same.
      const older = readFrame(framePayload(encodeValue([7, 0, record])), 0, MAX);
      assert.ok(older.ok, older.ok ? "" : older.reason);
      assert.deepStrictEqual(older.frame, read.frame);
    }
    // The embedded form: [timeMs, seed, [[clientId, seq, ackedThrough, op, timeoutMs | null]]].
    assert.deepStrictEqual(decodeValue(bytes), [
      1_700_000_000_000,
      9,
      [[1, 2, 1, new Uint8Array([1, 2, 3]), null]],
    ]);
  });

  it("writes accept, decide and commit records field by field: msgpackr's bytes with the shortest map headers", () => {
    const value: Batch = {
      timeMs: 1_700_000_000_000,
      seed: 3,
      commands: [{ clientId: 5, seq: 9, ackedThrough: 8, body: { kind: "op", op: new Uint8Array([7, 7]) } }],
    };
    const batchBytes = encodedBatch(value);
    // msgpackr's bytes for the record (with the shortest map headers, which the log's own msgpackr
    // does not pick), the batch in its embedded array form (as the log holds it).
    const packr = new Packr({ useRecords: false, variableMapSize: true });
    const msgpackrFrame = (seq: number, final: boolean, record: object): Uint8Array => {
      const envelope = packr.pack([seq, final ? 1 : 0, record]);
      const nil = envelope.lastIndexOf(0xc0);
      return framePayload(concatBytes([envelope.subarray(0, nil), batchBytes, envelope.subarray(nil + 1)]));
    };
    const numberOfEveryWidth = fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0xffff }),
      fc.integer({ min: 0x10000, max: 2 ** 32 - 1 }),
      fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER }),
    );
    fc.assert(
      fc.property(
        numberOfEveryWidth,
        numberOfEveryWidth,
        numberOfEveryWidth,
        fc.boolean(),
        (seq, slot, round, final) => {
          const ballot = { round, nodeId: (slot % 7) + 1 };
          const accepted: WalRecord = { kind: "accept", pvalue: { slot, ballot, value } };
          assert.deepEqual(
            encodeFrame({ seq, final, record: accepted }),
            msgpackrFrame(seq, final, { kind: "accept", pvalue: { slot, ballot, value: null } }),
          );
          const decided: WalRecord = { kind: "decide", slot, value };
          assert.deepEqual(
            encodeFrame({ seq, final, record: decided }),
            msgpackrFrame(seq, final, { kind: "decide", slot, value: null }),
          );
          const committed = commit(slot);
          assert.deepEqual(
            encodeFrame({ seq, final, record: committed }),
            framePayload(packr.pack([seq, final ? 1 : 0, committed])),
          );
          for (const record of [accepted, decided, committed]) {
            const read = readFrame(encodeFrame({ seq, final, record }), 0, MAX);
            assert.ok(read.ok, read.ok ? "" : read.reason);
            assert.deepStrictEqual(read.frame, { seq, final, record });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("round-trips a frame of every record kind", () => {
    for (const [i, record] of everyKind().entries()) {
      if (record.kind === "snapshot") continue;
      const bytes = encodeFrame({ seq: i + 1, final: true, record });
      const read = readFrame(bytes, 0, MAX);
      assert.ok(read.ok, record.kind);
      assert.equal(read.end, bytes.length);
      assert.deepStrictEqual(read.frame, { seq: i + 1, final: true, record });
    }
  });

  it("refuses bad frames without allocating from their length", () => {
    const good = encodeFrame({ seq: 1, final: true, record: commit(1) });
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(0, 0xfffffff0, true);
    const cases: [Uint8Array, RegExp, boolean][] = [
      [huge, /frame length 4294967280 exceeds recordBytesMax 1048576/, false],
      [new Uint8Array(12), /zero frame length/, false],
      [good.subarray(0, 5), /incomplete frame header/, true],
      [good.subarray(0, good.length - 1), /incomplete frame/, true],
      [flip(good, FRAME_HEADER_BYTES + 2), /checksum mismatch/, false],
      [framePayload(new Uint8Array([0x93, 0x01])), /undecodable payload/, false],
      [framePayload(encodeValue([1, 1, { kind: "nonsense" }])), /unknown record/, false],
      [framePayload(encodeValue({ kind: "commit", throughSlot: 1 })), /unknown record/, false],
    ];
    for (const [bytes, reason, incomplete] of cases) {
      const read = readFrame(bytes, 0, MAX);
      assert.ok(!read.ok);
      assert.match(read.reason, reason);
      assert.equal(read.incomplete, incomplete, read.reason);
    }
  });
});

describe("scanSegment", () => {
  it("reads clean batches whole", () => {
    const { bytes } = threeBatches();
    const scan = scanNewest(bytes);
    assert.ok(scan.ok);
    assert.equal(scan.frames.length, 6);
    assert.equal(scan.keptBytes, bytes.length);
    assert.equal(scan.torn, null);
  });

  it("cuts a torn last batch back to the last complete batch (batches are all-or-nothing)", () => {
    const { bytes, starts } = threeBatches();
    for (const end of [bytes.length - 1, bytes.length - 12, starts[2]! + 3]) {
      const scan = scanNewest(bytes.subarray(0, end));
      assert.ok(scan.ok);
      assert.equal(scan.keptBytes, starts[2]);
      assert.equal(scan.frames.length, 3);
      assert.match(scan.torn ?? "", /incomplete/);
    }
    // Frame-aligned: two of the last batch's three frames reached the disk, whole.
    const secondFrameEnd = starts[2]! + 2 * encodeFrame({ seq: 3, final: false, record: commit(4) }).length;
    const aligned = scanNewest(bytes.subarray(0, secondFrameEnd));
    assert.ok(aligned.ok);
    assert.equal(aligned.keptBytes, starts[2]);
    assert.match(aligned.torn ?? "", /incomplete batch/);
  });

  it("treats damage inside the last batch as torn even when later frames of that batch survived", () => {
    const { bytes, starts } = threeBatches();
    const holed = bytes.slice();
    // Page-order writeback: the first frame of batch 3 never reached the disk, the later ones did.
    const frameBytes = encodeFrame({ seq: 3, final: false, record: commit(4) }).length;
    holed.fill(0, starts[2]!, starts[2]! + frameBytes);
    const scan = scanNewest(holed);
    assert.ok(scan.ok);
    assert.equal(scan.keptBytes, starts[2]);
    assert.match(scan.torn ?? "", /zero frame length/);
  });

  it("refuses damage followed by a later batch, naming the byte", () => {
    const { bytes, starts } = threeBatches();
    const scan = scanNewest(flip(bytes, starts[1]! + FRAME_HEADER_BYTES + 1));
    assert.deepStrictEqual(scan, { ok: false, offset: starts[1], reason: "checksum mismatch" });
    const hugeLength = bytes.slice();
    new DataView(hugeLength.buffer).setUint32(starts[1]!, 0x7fffffff, true);
    const huge = scanNewest(hugeLength);
    assert.ok(!huge.ok);
    assert.match(huge.reason, /exceeds recordBytesMax/);
  });

  it("refuses any damage in an older segment, and an older segment that ends inside a batch", () => {
    const { bytes, starts } = threeBatches();
    const older = { isNewest: false, previous: null, recordBytesMax: MAX };
    assert.ok(scanSegment(bytes, older).ok);
    const torn = scanSegment(bytes.subarray(0, bytes.length - 1), older);
    assert.ok(!torn.ok);
    const aligned = scanSegment(
      bytes.subarray(0, starts[2]! + encodeFrame({ seq: 3, final: false, record: commit(4) }).length),
      older,
    );
    assert.ok(!aligned.ok);
    assert.equal(aligned.reason, "ends inside a batch");
  });

  it("refuses a batch number that does not follow the previous one", () => {
    const bytes = concatBytes([
      encodeBatch(1, [commit(1)]),
      encodeBatch(5, [commit(2)]),
      encodeBatch(6, [accept(3) as WalRecord]),
    ]);
    const scan = scanNewest(bytes);
    assert.ok(!scan.ok);
    assert.match(scan.reason, /batch 5 out of sequence, expected 2/);
  });
});

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = copy[at]! ^ 0x5a;
  return copy;
}

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Packr } from "msgpackr";
import type { Batch } from "../../src/core/command.ts";
import {
  decodeBatchBytes,
  EncodedBatch,
  encodedBatch,
  expandBatch,
  rememberBatchBytes,
} from "../../src/encoding/batch-bytes.ts";
import { collectedCount } from "./collected.ts";
import { withPlainBatches } from "./plain-batches.ts";

const batch: Batch = {
  timeMs: 1_700_000_000_123,
  seed: 4_000_000_000,
  commands: [
    { clientId: 7, seq: 12, ackedThrough: 11, body: { kind: "op", op: new Uint8Array([1, 2, 3]) } },
    { clientId: 7, seq: 13, ackedThrough: 11, body: { kind: "op", op: new Uint8Array([]) }, timeoutMs: 4000 },
    { clientId: 0, seq: 99, ackedThrough: 0, body: { kind: "open", ttlMs: 10_000 } },
    { clientId: 0, seq: 0, ackedThrough: 0, body: { kind: "keepalive", sessions: [7, 8] } },
    {
      clientId: 7,
      seq: 14,
      ackedThrough: 13,
      body: { kind: "reconfig", change: { kind: "add", member: { id: 4, replica: true, acceptor: true } } },
    },
  ],
};

describe("batch bytes", () => {
  it("round-trip every kind of command, operations as arrays and the rest as maps", () => {
    const bytes = encodedBatch(batch);
    assert.deepStrictEqual(decodeBatchBytes(bytes), batch);
    const decoded = decodeBatchBytes(bytes) as Batch;
    const op = decoded.commands[0]!.body as { op: Uint8Array };
    assert.equal(op.op.buffer, bytes.buffer, "a decoded op views the batch's bytes, not a copy");
  });

  it("are the bytes msgpackr writes for the batch's array form, as logs written before hold them", () => {
    const packr = new Packr({ useRecords: false, variableMapSize: true });
    const arrayForm = [
      batch.timeMs,
      batch.seed,
      batch.commands.map((c) =>
        c.body.kind === "op" ? [c.clientId, c.seq, c.ackedThrough, c.body.op, c.timeoutMs ?? null] : c,
      ),
    ];
    assert.deepEqual(Buffer.from(encodedBatch({ ...batch })), Buffer.from(packr.pack(arrayForm)));
  });

  it("encodes a batch once, and reuses the bytes a batch was decoded from", () => {
    const fresh: Batch = { ...batch };
    const bytes = encodedBatch(fresh);
    assert.equal(encodedBatch(fresh), bytes);
    const received = decodeBatchBytes(bytes) as Batch;
    rememberBatchBytes(received, bytes);
    assert.equal(encodedBatch(received), bytes);
  });

  it("leaves what is not a batch's array form as it is", () => {
    for (const value of [batch, null, 3, "x", [1, 2], [1, 2, 3], { timeMs: 1 }]) {
      assert.equal(expandBatch(value), value);
    }
    // A command array of the wrong length stays an array, for the validator to refuse.
    const odd = expandBatch([1, 2, [[1, 2, 3]]]) as { commands: unknown[] };
    assert.deepStrictEqual(odd.commands, [[1, 2, 3]]);
  });
});

/** A batch of operation commands only, each with an op of its own. */
function opsBatch(count: number): Batch {
  const commands = Array.from({ length: count }, (_, i) => ({
    clientId: 3,
    seq: i + 1,
    ackedThrough: i,
    body: { kind: "op" as const, op: Uint8Array.of(i, i + 1, 255) },
    ...(i % 2 === 0 ? { timeoutMs: 1000 + i } : {}),
  }));
  return { timeMs: 1_700_000_000_000, seed: 77, commands };
}

describe("encoded batches", () => {
  it("read as the batch they were made of, before and after they let their commands go", () => {
    const plain = opsBatch(5);
    const batch = EncodedBatch.of(plain);
    assert.equal(batch.commands, plain.commands, "the proposer's commands, until released");
    const bytes = batch.bytes();
    assert.deepEqual(bytes, encodedBatch({ ...plain }), "the bytes a plain batch encodes to");
    batch.release();
    assert.notEqual(batch.commands, plain.commands, "read again from the bytes");
    assert.deepStrictEqual(withPlainBatches(batch), plain);
    assert.equal(batch.bytes(), bytes, "not encoded again");
    assert.equal(encodedBatch(batch), bytes);
    const read = EncodedBatch.read(bytes);
    assert.ok(read !== null);
    assert.deepStrictEqual(withPlainBatches(read), plain);
    read.release();
    assert.deepStrictEqual(withPlainBatches(read), plain);
  });

  it("keep the commands of a batch that holds other commands than operations", () => {
    const mixed = EncodedBatch.of(batch);
    const commands = mixed.commands;
    mixed.release();
    assert.equal(mixed.commands, commands, "only operations read back from the bytes field by field");
    assert.equal(EncodedBatch.read(encodedBatch(batch)), null, "left to the general path");
  });

  it("let the collector take their command objects once released", async () => {
    const made = EncodedBatch.of(opsBatch(20));
    const received = EncodedBatch.read(encodedBatch(opsBatch(20)));
    assert.ok(received !== null);
    const refs = [made, received].flatMap((b) =>
      b.commands.flatMap((c) => [new WeakRef(c), new WeakRef(c.body)]),
    );
    assert.equal(await collectedCount(refs), 0, "held while the batches need them");
    made.release();
    received.release();
    assert.equal(await collectedCount(refs), refs.length);
    assert.equal(made.commands.length, 20);
  });
});

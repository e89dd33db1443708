import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Packr } from "msgpackr";
import type { Batch } from "../../src/core/command.ts";
import {
  decodeBatchBytes,
  encodedBatch,
  expandBatch,
  rememberBatchBytes,
} from "../../src/encoding/batch-bytes.ts";

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

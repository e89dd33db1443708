import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect } from "../../src/client/client.ts";
import type { PersistRecord } from "../../src/core/durable.ts";
import { EncodedBatch } from "../../src/encoding/batch-bytes.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { collectedCount } from "../encoding/collected.ts";
import { startOneNode } from "./one-node.ts";

/** A memory storage that keeps a weak reference to every operation command of the batches it stores. */
class CommandWatchingStorage extends MemoryStorage {
  readonly refs: WeakRef<object>[] = [];
  readonly batchKinds = new Set<string>();

  override append(records: readonly PersistRecord[]): Promise<void> {
    for (const record of records) {
      if (record.kind !== "accept") continue;
      const batch = record.pvalue.value;
      this.batchKinds.add(batch.constructor.name);
      for (const command of batch.commands) {
        if (command.body.kind === "op") this.refs.push(new WeakRef(command), new WeakRef(command.body.op));
      }
    }
    return super.append(records);
  }
}

describe("a node's applied slots", { timeout: 30_000 }, () => {
  it("keep their batches' bytes, and let the command objects go", async () => {
    const storage = new CommandWatchingStorage();
    const { host, address } = await startOneNode({
      file: new URL("../../src/objects/counter.ts", import.meta.url).pathname,
      className: "Counter",
      storage,
    });
    const client = await connect(address, { timeoutMs: 10_000 });
    try {
      const counter = client.object<{ increment(): Promise<number> }>("Counter");
      const results = await Promise.all(Array.from({ length: 40 }, () => counter.increment()));
      assert.equal(Math.max(...results), 40);
      assert.deepEqual([...storage.batchKinds], [EncodedBatch.name], "the leader proposes encoded batches");
      assert.ok(storage.refs.length >= 80, `${storage.refs.length} commands watched`);
      // The log still holds every slot (no snapshot yet), and with it each slot's batch.
      assert.equal(await collectedCount(storage.refs), storage.refs.length);
      assert.equal(await counter.increment(), 41, "the node reads nothing it let go");
    } finally {
      await client.close();
      await host.stop();
    }
  });
});

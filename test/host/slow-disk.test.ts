import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { pino } from "pino";
import { connect } from "../../src/client/client.ts";
import type { PersistRecord } from "../../src/core/durable.ts";
import { SLOW_APPEND_MS } from "../../src/host/node-host.ts";
import type { Counter } from "../../src/objects/counter.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { startOneNode } from "./one-node.ts";

/** A memory storage whose appends take `delayMs`, like a disk that stalls. */
class StallingStorage extends MemoryStorage {
  delayMs = 0;
  override async append(records: readonly PersistRecord[]): Promise<void> {
    if (records.length > 0 && this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    return super.append(records);
  }
}

describe("a node on a slow disk", () => {
  it("warns once a second with the append's duration, counts every slow append, and keeps serving", async () => {
    const lines: { level: number; msg: string; appendMs?: number; slowAppends?: number }[] = [];
    const logger = pino(
      { name: "replica" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
          done();
        },
      }),
    );
    const storage = new StallingStorage();
    const { host, address } = await startOneNode({
      file: new URL("../../src/objects/counter.ts", import.meta.url).pathname,
      className: "Counter",
      storage,
      logger,
    });
    const client = await connect(address, { timeoutMs: 10_000 });
    try {
      const counter = client.object<Counter>("Counter");
      await counter.increment();
      assert.equal(host.slowAppends, 0, "a memory disk is fast");
      assert.ok(!lines.some((l) => l.level === 40), "no warning on a fast disk");

      storage.delayMs = SLOW_APPEND_MS + 50;
      const slowFromMs = performance.now();
      for (let i = 0; i < 3; i++) await counter.increment();
      const slowPhaseMs = performance.now() - slowFromMs;
      assert.equal(await counter.getvalue(), 4, "a slow disk slows the node down, it does not stop it");
      assert.ok(host.slowAppends >= 3, `every slow append counted (${host.slowAppends})`);
      const warnings = lines.filter((l) => l.level === 40 && l.msg.startsWith("slow disk"));
      // At most one warning per second, however many slow appends.
      assert.ok(
        warnings.length >= 1 && warnings.length <= 1 + Math.floor(slowPhaseMs / 1000),
        `${warnings.length} warnings for ${host.slowAppends} slow appends in ${Math.round(slowPhaseMs)} ms`,
      );
      assert.ok(host.slowAppends > warnings.length, "more slow appends than warnings");
      assert.ok(
        warnings[0]!.appendMs! >= SLOW_APPEND_MS,
        `the duration is reported (${warnings[0]!.appendMs})`,
      );
      assert.match(warnings[0]!.msg, /this node's heartbeats wait for it/);
    } finally {
      await client.close();
      await host.stop();
    }
  });
});

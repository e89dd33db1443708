import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect } from "../../src/client/client.ts";
import type { NodeHost } from "../../src/host/node-host.ts";
import { DEFAULT_CONNECTION_LIMITS } from "../../src/net/connection.ts";
import { RESULT_BYTES_MAX } from "../../src/object/index.ts";
import { startOneNode } from "./one-node.ts";

interface Misbehaving {
  huge(bytes: number): Promise<string>;
  peek(): Promise<number>;
}

/** A one-member node hosting the misbehaving fixture, whose frames may be at most `frameBytesMax`. */
function startNode(frameBytesMax: number): Promise<{ host: NodeHost; address: string }> {
  return startOneNode({
    file: new URL("../object/fixtures/misbehaving.ts", import.meta.url).pathname,
    className: "Misbehaving",
    connection: { ...DEFAULT_CONNECTION_LIMITS, frameBytesMax },
  });
}

// A regression stops the node; the timeouts make that a failure rather than a hang.
describe("replies too large to send", { timeout: 30_000 }, () => {
  it("a result over RESULT_BYTES_MAX is the caller's ResultTooLarge, and the node goes on", async () => {
    const { host, address } = await startNode(DEFAULT_CONNECTION_LIMITS.frameBytesMax);
    const client = await connect(address, { timeoutMs: 10_000 });
    try {
      const o = client.object<Misbehaving>("Misbehaving");
      await assert.rejects(o.huge(20_000_000), { name: "ResultTooLarge" });
      assert.equal((await o.huge(1000)).length, 1000);
      assert.equal(await o.peek(), 2, "both calls ran; the node serves on");
    } finally {
      await client.close();
      await host.stop();
    }
  });

  it("a reply over the node's frame limit is TooLarge instead of stopping the node", async () => {
    // Frames smaller than a result may be: the host, not the object layer, has to refuse this one.
    const frameBytesMax = 64 * 1024;
    assert.ok(frameBytesMax < RESULT_BYTES_MAX);
    const { host, address } = await startNode(frameBytesMax);
    const client = await connect(address, { timeoutMs: 10_000 });
    try {
      const o = client.object<Misbehaving>("Misbehaving");
      await assert.rejects(o.huge(100_000), { name: "TooLarge", message: /exceeds frameBytesMax 65536/ });
      assert.equal(await o.peek(), 1, "the call ran, and the node still answers");
    } finally {
      await client.close();
      await host.stop();
    }
  });
});

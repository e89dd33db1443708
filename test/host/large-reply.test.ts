import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";
import { connect } from "../../src/client/client.ts";
import { clusterIdentity, initialMembers } from "../../src/host/membership.ts";
import { NodeHost } from "../../src/host/node-host.ts";
import { DEFAULT_CONNECTION_LIMITS } from "../../src/net/connection.ts";
import { loadObjectFile, ObjectMachine, RESULT_BYTES_MAX } from "../../src/object/index.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";

interface Misbehaving {
  huge(bytes: number): Promise<string>;
  peek(): Promise<number>;
}

/** A one-member node hosting the misbehaving fixture, whose frames may be at most `frameBytesMax`. */
async function startNode(frameBytesMax: number): Promise<{ host: NodeHost; address: string }> {
  const [port] = await freeLoopbackPorts(1);
  const members = initialMembers({ replicas: [{ host: "127.0.0.1", port: port! }], acceptors: [] });
  const loaded = await loadObjectFile({
    file: new URL("../object/fixtures/misbehaving.ts", import.meta.url).pathname,
    className: "Misbehaving",
  });
  const machine = new ObjectMachine(new Map([["Misbehaving", loaded]]));
  const host = await NodeHost.start({
    id: members[0]!.id,
    members,
    listen: { host: "127.0.0.1", port: port! },
    machine,
    objects: machine.info(),
    storage: new MemoryStorage(),
    identity: clusterIdentity(members, null),
    logger: pino({ level: "silent" }),
    connection: { ...DEFAULT_CONNECTION_LIMITS, frameBytesMax },
  });
  return { host, address: `127.0.0.1:${port}` };
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

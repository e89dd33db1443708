import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";
import type { PersistRecord } from "../../src/core/durable.ts";
import type { AcceptMessage } from "../../src/core/messages.ts";
import { clusterIdentity, initialMembers } from "../../src/host/membership.ts";
import { NodeHost } from "../../src/host/node-host.ts";
import { ObjectMachine } from "../../src/object/index.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";

/** A memory storage that notes, for each append, whether the event loop's turn had ended by then. */
class TurnNotingStorage extends MemoryStorage {
  turnEnded = false;
  readonly appends: { kinds: string[]; turnEnded: boolean }[] = [];

  override append(records: readonly PersistRecord[]): Promise<void> {
    this.appends.push({ kinds: records.map((r) => r.kind), turnEnded: this.turnEnded });
    return super.append(records);
  }
}

describe("a follower's log writes", () => {
  it("sync an accept when the callback that delivered it is done, before the loop's turn ends", async () => {
    const ports = await freeLoopbackPorts(3);
    const members = initialMembers({
      replicas: ports.map((port) => ({ host: "127.0.0.1", port })),
      acceptors: [],
    });
    const storage = new TurnNotingStorage();
    const machine = new ObjectMachine(new Map());
    // The second member, with the other two not running: it stays a follower for the test.
    const host = await NodeHost.start({
      id: members[1]!.id,
      members,
      listen: { host: "127.0.0.1", port: ports[1]! },
      machine,
      objects: machine.info(),
      storage,
      identity: clusterIdentity(members, null),
      logger: pino({ level: "silent" }),
    });
    try {
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(host.status().role, "follower");
      const leader = members[0]!.id;
      const accept: AcceptMessage = {
        type: "accept",
        ballot: { round: 1, nodeId: leader },
        entries: [{ slot: 1, value: { timeMs: 0, seed: 1, commands: [] } }],
        commitThrough: 0,
        compactThrough: 0,
      };
      // A callback of this turn ends here; the sentinel runs when the turn's immediates do.
      setImmediate(() => {
        storage.turnEnded = true;
      });
      host.deliverPeer(leader, { t: "peer", m: accept });
      await new Promise((r) => setTimeout(r, 20));
      const written = storage.appends.find((a) => a.kinds.includes("accept"));
      assert.ok(written, JSON.stringify(storage.appends));
      assert.equal(written.turnEnded, false, "the accept waited for the end of the turn");
    } finally {
      await host.stop();
    }
  });
});

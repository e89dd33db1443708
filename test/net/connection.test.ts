import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { connect, createServer } from "node:net";
import { describe, it } from "node:test";
import type { ConnectionOptions } from "../../src/net/connection.ts";
import { FrameConnection } from "../../src/net/connection.ts";
import { encodeFrame } from "../../src/net/frame-codec.ts";
import { FrameReader } from "../../src/net/framer.ts";
import type { Frame } from "../../src/net/frames.ts";

const bytesOf = (payloads: readonly Uint8Array[]) => payloads.map((p) => Buffer.from(p));

/** A connected pair over loopback: `ours` wrapped in a FrameConnection, `theirs` raw. */
async function pair(
  options: ConnectionOptions = {},
): Promise<{ conn: FrameConnection; ours: Socket; theirs: Socket; close: () => void }> {
  let theirs: Socket | null = null;
  const server = createServer((s) => {
    theirs = s;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  const ours = connect({ host: "127.0.0.1", port: address.port });
  await new Promise<void>((resolve) => ours.once("connect", resolve));
  for (let i = 0; i < 100 && theirs === null; i++) await new Promise((r) => setTimeout(r, 5));
  const conn = new FrameConnection(ours, { onFrame: () => {}, onClose: () => {} }, options);
  return {
    conn,
    ours,
    theirs: theirs!,
    close: () => {
      ours.destroy();
      theirs?.destroy();
      server.close();
    },
  };
}

/** Everything `socket` receives until it ends, split into frames. */
function receiveAll(socket: Socket): Promise<Uint8Array[]> {
  const reader = new FrameReader({ frameBytesMax: 1 << 20 });
  const payloads: Uint8Array[] = [];
  return new Promise((resolve) => {
    socket.on("data", (chunk: Buffer) => payloads.push(...reader.push(chunk)));
    socket.on("end", () => resolve(payloads));
    socket.on("close", () => resolve(payloads));
  });
}

/** The sizes of the writes made on `socket` from now on. */
function countWrites(socket: Socket): number[] {
  const writes: number[] = [];
  const write = socket.write.bind(socket);
  socket.write = ((chunk: Uint8Array, ...rest: never[]) => {
    writes.push(chunk.byteLength);
    return write(chunk, ...rest);
  }) as typeof socket.write;
  return writes;
}

describe("FrameConnection", () => {
  it("sends the frames of one callback in one write, in order", async () => {
    const { conn, ours, theirs, close } = await pair();
    try {
      const writes = countWrites(ours);
      const received = receiveAll(theirs);
      const frames: Frame[] = [1, 2, 3].map((id) => ({ t: "status", id }));
      for (const frame of frames) assert.equal(conn.send(frame), true);
      assert.equal(writes.length, 0, "nothing is written before the turn ends");
      assert.ok(conn.queuedBytes > 0, "queued frames count against the send limit");
      await new Promise((r) => setImmediate(r));
      assert.equal(writes.length, 1, "one write for the turn");
      ours.end();
      const payloads = await received;
      assert.deepEqual(bytesOf(payloads), bytesOf(frames.map(encodeFrame)));
    } finally {
      close();
    }
  });

  for (const sendsAt of ["tick", "turn"] as const) {
    it(`sends frames queued by later callbacks of the turn ${sendsAt === "turn" ? "in the same write" : "in writes of their own"} when it sends at the ${sendsAt}`, async () => {
      const { conn, ours, theirs, close } = await pair({ sendsAt });
      try {
        const writes = countWrites(ours);
        const received = receiveAll(theirs);
        const frames: Frame[] = [1, 2, 3].map((id) => ({ t: "status", id }));
        // Three callbacks of one turn, as when a client reads replies from several sockets.
        for (const frame of frames) setImmediate(() => conn.send(frame));
        await new Promise((r) => setTimeout(r, 20));
        assert.equal(writes.length, sendsAt === "turn" ? 1 : 3);
        ours.end();
        assert.deepEqual(bytesOf(await received), bytesOf(frames.map(encodeFrame)));
      } finally {
        close();
      }
    });
  }

  it("flush writes what is queued at once, before the thread blocks, and the turn's end adds nothing", async () => {
    const { conn, ours, theirs, close } = await pair();
    try {
      const writes = countWrites(ours);
      const received = receiveAll(theirs);
      const frames: Frame[] = [1, 2].map((id) => ({ t: "status", id }));
      for (const frame of frames) conn.send(frame);
      conn.flush();
      assert.equal(writes.length, 1, "written before the turn ends");
      assert.equal(conn.queuedBytes, ours.writableLength, "nothing left queued in the connection");
      conn.flush();
      await new Promise((r) => setImmediate(r));
      assert.equal(writes.length, 1, "an empty flush, and the turn's end, write nothing more");
      ours.end();
      assert.deepEqual(bytesOf(await received), bytesOf(frames.map(encodeFrame)));
    } finally {
      close();
    }
  });

  it("fail sends the error frame, after what was queued, before ending the stream", async () => {
    const { conn, theirs, close } = await pair();
    try {
      const received = receiveAll(theirs);
      conn.send({ t: "status", id: 9 });
      conn.fail("BadFrame", "test");
      const payloads = await received;
      assert.deepEqual(
        bytesOf(payloads),
        bytesOf(
          [
            { t: "status", id: 9 },
            { t: "error", code: "BadFrame", message: "test" },
          ].map((f) => encodeFrame(f as Frame)),
        ),
      );
    } finally {
      close();
    }
  });
});

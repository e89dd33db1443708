import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect } from "../../src/client/client.ts";
import { RemoteError } from "../../src/client/errors.ts";
import { decodeFrame, encodeFrame } from "../../src/net/frame-codec.ts";
import { framesBytes } from "../../src/net/framer.ts";
import type { Frame } from "../../src/net/frames.ts";
import { PROTOCOL_VERSION } from "../../src/net/frames.ts";
import { ProcessCluster, ROOT, runCli } from "./process-cluster.ts";

const TALLY = `${ROOT}test/e2e/fixtures/typed.ts`;

/** A raw TCP connection that collects the frames the node sends back. */
async function rawConnection(
  address: string,
): Promise<{ socket: Socket; frames: Frame[]; closed: Promise<void> }> {
  const [host, port] = address.split(":");
  const socket = tcpConnect({ host: host!, port: Number(port) });
  await new Promise<void>((r) => socket.once("connect", () => r()));
  const frames: Frame[] = [];
  let buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
      const length = buffer.readUInt32BE(0);
      frames.push(decodeFrame(buffer.subarray(4, 4 + length)));
      buffer = buffer.subarray(4 + length);
    }
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  return { socket, frames, closed };
}

function send(socket: Socket, frame: Frame): void {
  socket.write(framesBytes([encodeFrame(frame)]));
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  for (let waited = 0; waited < ms && !check(); waited += 20) await new Promise((r) => setTimeout(r, 20));
}

describe("bad input leaves the node serving", { timeout: 120_000 }, () => {
  let cluster: ProcessCluster;
  before(async () => {
    cluster = await ProcessCluster.start({ replicas: 1, file: TALLY, className: "Tally" });
  });
  after(async () => {
    await cluster?.stop();
  });

  async function stillServes(): Promise<void> {
    const client = await connect(cluster.connectString, { timeoutMs: 5000 });
    const before = await client.object<{ get(): number }>().get();
    assert.equal(await client.object<{ add(n: number): number }>().add(1), before + 1);
    await client.close();
  }

  it("random bytes: an error frame or a closed connection", async () => {
    const { socket, frames, closed } = await rawConnection(cluster.address(0));
    socket.write(randomBytes(4096));
    await Promise.race([closed, until(() => frames.length > 0)]);
    assert.ok(frames.every((f) => f.t === "error"));
    socket.destroy();
    await stillServes();
  });

  it("an oversized frame is refused before its body arrives", async () => {
    const { socket, frames, closed } = await rawConnection(cluster.address(0));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1024 * 1024 * 1024);
    socket.write(header);
    await closed;
    assert.equal(frames[0]?.t, "error");
    assert.equal((frames[0] as { code: string }).code, "TooLarge");
    await stillServes();
  });

  it("a truncated frame: the node waits, the client hangs up, nothing changes", async () => {
    const { socket } = await rawConnection(cluster.address(0));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(100);
    socket.write(Buffer.concat([header, Buffer.alloc(10, 7)]));
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    await stillServes();
  });

  it("valid msgpack that is not a valid frame gets a BadFrame error and the connection stays usable", async () => {
    const { socket, frames } = await rawConnection(cluster.address(0));
    send(socket, { t: "hello", v: PROTOCOL_VERSION, role: "client" });
    await until(() => frames.length >= 1);
    assert.equal(frames[0]?.t, "welcome");
    socket.write(framesBytes([new Uint8Array([0x81, 0xa1, 0x74, 0xa5, 0x62, 0x6f, 0x67, 0x75, 0x73])])); // {t: "bogus"}
    await until(() => frames.length >= 2);
    assert.equal(frames[1]?.t, "error");
    send(socket, { t: "status", id: 5 });
    await until(() => frames.length >= 3);
    assert.equal(frames[2]?.t, "status-reply");
    socket.destroy();
  });

  it("an unknown method and wrong argument types are the caller's errors", async () => {
    const client = await connect(cluster.connectString, { timeoutMs: 5000 });
    const tally = client.object<{ add(n: unknown): number; nope(): void }>();
    await assert.rejects(
      tally.nope(),
      (e: unknown) => e instanceof RemoteError && e.name === "MethodNotFound",
    );
    await assert.rejects(
      tally.add("five"),
      (e: unknown) => e instanceof RemoteError && e.name === "TypeError" && /finite number/.test(e.message),
    );
    await client.close();
    await stillServes();
  });
});

describe("bad command lines get one clear line and a non-zero exit", { timeout: 120_000 }, () => {
  const oneLine = (stderr: string): string => {
    const lines = stderr.trim().split("\n");
    assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
    return lines[0]!;
  };

  it("a missing file", async () => {
    const r = await runCli(["replica", "-f", "no-such-object.ts", "-c", "Counter", "--in-memory"]);
    assert.notEqual(r.code, 0);
    assert.match(oneLine(r.stderr), /no-such-object\.ts/);
  });

  it("a missing class", async () => {
    const r = await runCli(["replica", "-f", "src/objects/counter.ts", "-c", "Nope", "--in-memory"]);
    assert.notEqual(r.code, 0);
    assert.match(oneLine(r.stderr), /Nope/);
  });

  it("a constructor that needs arguments", async () => {
    const r = await runCli([
      "replica",
      "-f",
      "test/e2e/fixtures/needs-args.ts",
      "-c",
      "Needy",
      "--in-memory",
    ]);
    assert.notEqual(r.code, 0);
    assert.match(oneLine(r.stderr), /constructor/);
  });

  it("a port in use", async () => {
    const server = createServer();
    const port = await new Promise<number>((r) =>
      server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port)),
    );
    const r = await runCli([
      "replica",
      "-f",
      "src/objects/counter.ts",
      "-c",
      "Counter",
      "-p",
      String(port),
      "--in-memory",
    ]);
    server.close();
    assert.notEqual(r.code, 0);
    assert.match(oneLine(r.stderr), new RegExp(`port ${port}.*in use`));
  });

  it("a data dir that cannot be used", async () => {
    const r = await runCli([
      "replica",
      "-f",
      "src/objects/counter.ts",
      "-c",
      "Counter",
      "--data-dir",
      "package.json/data",
    ]);
    assert.notEqual(r.code, 0);
    assert.match(oneLine(r.stderr), /package\.json/);
  });

  it("--safe refuses an object that fails the safety check, listing the findings", async () => {
    const dir = mkdtempSync(join(tmpdir(), "concoord-safe-"));
    const file = join(dir, "leaky.ts");
    writeFileSync(
      file,
      'import { readFileSync } from "node:fs";\nexport class Leaky {\n  read() { return readFileSync("/etc/hostname", "utf8"); }\n}\n',
    );
    const r = await runCli(["replica", "-f", file, "-c", "Leaky", "--safe", "--in-memory"]);
    rmSync(dir, { recursive: true, force: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /leaky\.ts:1:\d+ .*node:fs/);
    assert.match(r.stderr, /--safe: 1 finding/);
  });

  it("an unknown flag", async () => {
    const r = await runCli(["replica", "-f", "src/objects/counter.ts", "-c", "Counter", "--frob"]);
    assert.notEqual(r.code, 0);
    assert.match(oneLine(r.stderr), /unknown option '--frob'/);
  });
});

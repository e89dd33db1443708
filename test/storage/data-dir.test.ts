import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isAlive } from "../../src/storage/dir-lock.ts";
import { FileStorage } from "../../src/storage/file-storage.ts";
import { StorageError } from "../../src/storage/storage-error.ts";
import { fileStorage, IDENTITY, recover, tempDir } from "./helpers.ts";

/** Asserts `promise` rejects with a one-line StorageError equal to or matching `message`. */
async function rejectsWith(promise: Promise<unknown>, message: string | RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof StorageError, String(err));
    assert.ok(!err.message.includes("\n"), "one line");
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

/** Starts a process that stays alive until killed; resolves with its pid. */
function sleeper(t: { after(fn: () => void): void }): number {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  t.after(() => child.kill("SIGKILL"));
  assert.ok(child.pid !== undefined);
  return child.pid;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = child.pid!;
  await new Promise((done) => child.on("exit", done));
  return pid;
}

describe("data dir: identity", () => {
  it("meta.json binds the dir to the identity it was created for", async (t) => {
    const dir = tempDir(t);
    await recover(t, dir);
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as Record<string, unknown>;
    assert.equal(meta.identity, IDENTITY);
    assert.ok(!Number.isNaN(Date.parse(String(meta.createdAt))));
    const { storage } = fileStorage(t, dir, { identity: "def4567890abcdef0000" });
    await rejectsWith(
      storage.open(),
      `data dir ${dir}: belongs to cluster identity cluster-iden…, this node was started for def4567890ab…; use another --data-dir`,
    );
    assert.ok(!existsSync(join(dir, "LOCK")));
    await recover(t, dir); // the right identity still opens it
  });
});

describe("data dir: lock", () => {
  it("a second storage of this process on the same dir is refused until the first closes", async (t) => {
    const dir = tempDir(t);
    const first = fileStorage(t, dir).storage;
    await first.open();
    assert.equal(readFileSync(join(dir, "LOCK"), "utf8").trim(), String(process.pid));
    const second = fileStorage(t, dir).storage;
    await rejectsWith(
      second.open(),
      `data dir ${dir} is in use by process ${process.pid}; stop it or use another --data-dir`,
    );
    await first.close();
    await second.open();
    await second.close();
  });

  it("two concurrent opens in one process: exactly one wins", async (t) => {
    const dir = tempDir(t);
    await recover(t, dir);
    const results = await Promise.allSettled([
      fileStorage(t, dir).storage.open(),
      fileStorage(t, dir).storage.open(),
    ]);
    assert.deepStrictEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
  });

  it("a lock held by another live process is refused", async (t) => {
    const dir = tempDir(t);
    await recover(t, dir);
    const pid = sleeper(t);
    writeFileSync(join(dir, "LOCK"), `${pid}\n`);
    await rejectsWith(
      fileStorage(t, dir).storage.open(),
      `data dir ${dir} is in use by process ${pid}; stop it or use another --data-dir`,
    );
    assert.equal(readFileSync(join(dir, "LOCK"), "utf8"), `${pid}\n`, "someone else's lock is left alone");
  });

  it("a stale lock (dead pid, empty file, or this pid from an earlier run) is taken over", async (t) => {
    const dir = tempDir(t);
    await recover(t, dir);
    const dead = await deadPid();
    assert.ok(!isAlive(dead));
    for (const content of [`${dead}\n`, "", `${process.pid}\n`]) {
      writeFileSync(join(dir, "LOCK"), content);
      const { storage } = fileStorage(t, dir);
      await storage.open();
      assert.equal(readFileSync(join(dir, "LOCK"), "utf8"), `${process.pid}\n`);
      await storage.close();
      assert.ok(!existsSync(join(dir, "LOCK")));
    }
  });
});

describe("data dir: unusable paths", () => {
  it("a path under a regular file gives a one-line error with the OS reason", async (t) => {
    const file = join(tempDir(t), "plain-file");
    writeFileSync(file, "x");
    const sub = join(file, "sub");
    await rejectsWith(
      new FileStorage({ dir: sub, identity: IDENTITY }).open(),
      new RegExp(
        `^data dir ${sub}: cannot be used \\(ENOTDIR: not a directory, stat '${sub}'\\); choose another --data-dir$`,
      ),
    );
    await rejectsWith(
      new FileStorage({ dir: join(sub, "deeper"), identity: IDENTITY }).open(),
      /^data dir .*\/plain-file\/sub\/deeper: cannot be used \(ENOTDIR/,
    );
  });

  it("a path that is a file is refused", async (t) => {
    const file = join(tempDir(t), "plain-file");
    writeFileSync(file, "x");
    await rejectsWith(
      new FileStorage({ dir: file, identity: IDENTITY }).open(),
      `data dir ${file}: is not a directory; choose another --data-dir`,
    );
  });

  it("missing parents are created", async (t) => {
    const dir = join(tempDir(t), "a", "b", "c");
    await recover(t, dir);
    assert.ok(existsSync(join(dir, "meta.json")));
  });
});

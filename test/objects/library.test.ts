import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { describe, it } from "node:test";
import { loadObjectFile } from "../../src/object/load.ts";
import { inspectClass } from "../../src/object/loaded-class.ts";
import { Bank } from "../../src/objects/bank.ts";
import { Barrier } from "../../src/objects/barrier.ts";
import { BinaryTree } from "../../src/objects/binary-tree.ts";
import { BoundedSemaphore } from "../../src/objects/bounded-semaphore.ts";
import { Condition } from "../../src/objects/condition.ts";
import { Counter } from "../../src/objects/counter.ts";
import { findLibraryObject, OBJECT_LIBRARY, UnknownLibraryObject } from "../../src/objects/index.ts";
import { JobManager } from "../../src/objects/job-manager.ts";
import { Lock } from "../../src/objects/lock.ts";
import { Log } from "../../src/objects/log.ts";
import { ReplicatedMap } from "../../src/objects/map.ts";
import { Membership } from "../../src/objects/membership.ts";
import { NameserverCoord } from "../../src/objects/nameserver-coord.ts";
import { Queue } from "../../src/objects/queue.ts";
import { RLock } from "../../src/objects/rlock.ts";
import { Semaphore } from "../../src/objects/semaphore.ts";
import { Stack } from "../../src/objects/stack.ts";
import { Driver, fieldsOf, roundTrip } from "./harness.ts";

/**
 * Per library object: an instance driven into a state with something in every field — parked calls
 * included — to check that the whole state is plain data that survives the codec.
 */
const busy: Record<string, () => object> = {
  Counter: () => {
    const d = new Driver(new Counter());
    d.value(1, "increment");
    return d.instance;
  },
  Lock: () => {
    const d = new Driver(new Lock());
    d.value(1, "acquire");
    d.park(2, "acquire");
    return d.instance;
  },
  RLock: () => {
    const d = new Driver(new RLock());
    d.value(1, "acquire");
    d.value(1, "acquire");
    d.park(2, "acquire");
    return d.instance;
  },
  Semaphore: () => {
    const d = new Driver(new Semaphore(1));
    d.value(1, "acquire");
    d.park(2, "acquire");
    return d.instance;
  },
  BoundedSemaphore: () => {
    const d = new Driver(new BoundedSemaphore(1));
    d.value(1, "acquire");
    d.park(2, "acquire");
    return d.instance;
  },
  Condition: () => {
    const d = new Driver(new Condition());
    d.value(1, "acquire");
    d.park(1, "wait");
    d.value(2, "acquire");
    d.park(3, "acquire");
    d.park(2, "wait");
    d.value(3, "notify");
    return d.instance;
  },
  Barrier: () => {
    const d = new Driver(new Barrier(3));
    d.park(1, "wait");
    return d.instance;
  },
  Queue: () => {
    const d = new Driver(new Queue());
    d.park(1, "get");
    d.value(2, "put", new Set([1n]));
    d.value(2, "put", new Uint8Array([1, 2]));
    return d.instance;
  },
  Stack: () => {
    const d = new Driver(new Stack());
    d.value(1, "push", { a: [null] });
    return d.instance;
  },
  Log: () => {
    const d = new Driver(new Log());
    d.value(1, "append", new Map([[1, "x"]]));
    return d.instance;
  },
  Membership: () => {
    const d = new Driver(new Membership());
    d.value(1, "add", "m");
    d.park(2, "waitForChange", 1);
    return d.instance;
  },
  Map: () => {
    const d = new Driver(new ReplicatedMap());
    d.value(1, "set", "k", { nested: new Map([["x", [1, 2]]]) });
    return d.instance;
  },
  Bank: () => {
    const d = new Driver(new Bank());
    d.value(1, "open", "ann", 5);
    return d.instance;
  },
  BinaryTree: () => {
    const d = new Driver(new BinaryTree());
    for (const k of [3, 1, "x"]) d.value(1, "insert", k);
    return d.instance;
  },
  JobManager: () => {
    const d = new Driver(new JobManager());
    d.value(1, "submit", "a");
    d.value(1, "submit", { b: undefined });
    d.value(2, "claim");
    return d.instance;
  },
  NameserverCoord: () => {
    const d = new Driver(new NameserverCoord());
    d.value(1, "addRecord", "example.com", "A", "192.0.2.1");
    return d.instance;
  },
};

describe("the object registry", () => {
  it("finds objects by name, case-insensitively, and by class name", () => {
    assert.equal(findLibraryObject("Lock").className, "Lock");
    assert.equal(findLibraryObject("lock").name, "Lock");
    assert.equal(findLibraryObject("BOUNDEDSEMAPHORE").name, "BoundedSemaphore");
    assert.equal(findLibraryObject("Map").className, "ReplicatedMap");
    assert.equal(findLibraryObject("ReplicatedMap").name, "Map");
    assert.equal(findLibraryObject(" Queue ").name, "Queue");
  });

  it("finds objects by the original ConCoord dotted names, dropping the D of threading objects", () => {
    assert.equal(findLibraryObject("concoord.object.counter.Counter").name, "Counter");
    assert.equal(findLibraryObject("concoord.object.jobmanager.JobManager").name, "JobManager");
    assert.equal(
      findLibraryObject("concoord.object.nameservercoord.NameserverCoord").name,
      "NameserverCoord",
    );
    assert.equal(findLibraryObject("concoord.threadingobject.dlock.DLock").name, "Lock");
    assert.equal(findLibraryObject("concoord.threadingobject.drlock.DRLock").name, "RLock");
    assert.equal(findLibraryObject("concoord.threadingobject.dsemaphore.DSemaphore").name, "Semaphore");
    assert.equal(
      findLibraryObject("concoord.threadingobject.dboundedsemaphore.DBoundedSemaphore").name,
      "BoundedSemaphore",
    );
    assert.equal(findLibraryObject("concoord.threadingobject.dcondition.DCondition").name, "Condition");
    assert.equal(findLibraryObject("DBarrier").name, "Barrier");
  });

  it("refuses unknown names with the list of known ones", () => {
    for (const name of ["Mutex", "", "concoord.object.", "D", "DD Lock"]) {
      assert.throws(
        () => findLibraryObject(name),
        (error: unknown) => {
          assert.ok(error instanceof UnknownLibraryObject);
          assert.equal(error.name, "UnknownLibraryObject");
          for (const o of OBJECT_LIBRARY) assert.ok(error.message.includes(o.name), o.name);
          return true;
        },
      );
    }
  });

  it("lists unique names, existing files and documented summaries", () => {
    const names = OBJECT_LIBRARY.map((o) => o.name.toLowerCase());
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(
      Object.keys(busy).sort(),
      OBJECT_LIBRARY.map((o) => o.name).sort(),
      "every object is tested",
    );
    for (const o of OBJECT_LIBRARY) {
      assert.ok(existsSync(o.file), `${o.file} exists`);
      assert.ok(o.file.endsWith(".ts"), "running from source, the registry names the sources");
      assert.ok(o.summary.length > 10);
    }
  });

  it("names files whose class is hostable: no-argument constructor, valid readOnlyMethods, plain state", async () => {
    for (const o of OBJECT_LIBRARY) {
      const module = (await import(o.file)) as Record<string, unknown>;
      const loaded = inspectClass(module[o.className], {
        shownFile: o.file,
        file: o.file,
        className: o.className,
        codeHash: "test",
      });
      assert.ok(loaded.methods.length > 1, `${o.name} has methods`);
      assert.ok(
        loaded.methods.every((m) => !m.startsWith("_") || m === "__concoordinit__"),
        `${o.name} exposes no helpers`,
      );
    }
  });

  it("bundles every file with esbuild as the CLI does", async () => {
    const loaded = await Promise.all(
      OBJECT_LIBRARY.map((o) => loadObjectFile({ file: o.file, className: o.className })),
    );
    assert.deepEqual(
      loaded.map((l) => l.className),
      OBJECT_LIBRARY.map((o) => o.className),
    );
  });

  it("documents every public method with a JSDoc example", () => {
    // counter.ts is the tutorial's file, kept as the README shows it.
    for (const o of OBJECT_LIBRARY.filter((lib) => lib.name !== "Counter")) {
      const source = readFileSync(o.file, "utf8");
      assert.match(source, /\*\/\nexport class/, `${basename(o.file)} documents its class`);
      for (const [, before, name] of source.matchAll(/(.{0,3})\n {2}(?:static )?([a-zA-Z]\w*)\(/g)) {
        if (name === "constructor") continue;
        assert.equal(before, " */", `${basename(o.file)}: ${name}() has a JSDoc comment right above it`);
      }
      for (const doc of source.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\n {2}([a-zA-Z]\w*)\(/g))
        assert.match(doc[1] ?? "", /@example/, `${basename(o.file)}: ${doc[2]}() has an example`);
    }
  });
});

describe("the state of every library object", () => {
  for (const [name, make] of Object.entries(busy))
    it(`${name}: every field survives encodeValue/decodeValue and rebuilds an equal object`, () => {
      const instance = make();
      assert.ok(Object.keys(instance).length > 0);
      const copy = roundTrip(instance);
      assert.ok(copy instanceof (instance.constructor as new () => object));
      assert.deepStrictEqual(fieldsOf(copy), fieldsOf(instance));
      assert.deepEqual(Object.keys(copy), Object.keys(instance), "same fields, same order");
    });
});

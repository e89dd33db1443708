import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { HOLD_MS, HOLD_REPLIES_MIN, ReplyGroupHold } from "../../src/host/reply-group-hold.ts";

/** A hold over named connections whose proposals are recorded, one array per release. */
function recorded(holdMs = HOLD_MS) {
  const releases: string[][] = [];
  const hold = new ReplyGroupHold<string, string>({ holdMs, propose: (held) => releases.push([...held]) });
  const answered = (...conns: [string, number][]) => hold.answered(new Map(conns), () => true);
  return { hold, releases, answered };
}

const BUSY = HOLD_REPLIES_MIN;

describe("the reply group hold", () => {
  it("holds a group's commands until the last of the group sends, then proposes all in arrival order", () => {
    const { hold, releases, answered } = recorded();
    answered(["a", BUSY], ["b", BUSY], ["c", 16]);
    assert.equal(hold.command("a", "a1"), true);
    assert.equal(hold.command("a", "a2"), true);
    assert.equal(hold.command("b", "b1"), true);
    assert.deepEqual(releases, [], "c has not sent yet");
    assert.equal(hold.heldCount, 3);
    assert.equal(hold.command("c", "c1"), true, "the last one is taken too, and proposed with the rest");
    assert.deepEqual(releases, [["a1", "a2", "b1", "c1"]]);
    assert.equal(hold.heldCount, 0);
    assert.equal(hold.completed, 1);
    // The group came back: nothing is awaited until another flush answers a group.
    assert.equal(hold.command("a", "a3"), false);
    hold.clear();
  });

  it("holds nothing for one busy connection alone, or for connections with few calls in flight", () => {
    const { hold, answered } = recorded();
    answered(["a", 64]);
    assert.equal(hold.command("a", "a1"), false, "one connection has no one to wait for");
    answered(["a", BUSY - 1], ["b", BUSY - 1], ["c", 1]);
    assert.equal(
      hold.command("a", "a2"),
      false,
      "clients with a call or two in flight may think between calls",
    );
    hold.clear();
  });

  it("holds nothing for a connection that still has calls in flight", () => {
    const releases: string[][] = [];
    const hold = new ReplyGroupHold<string, string>({
      holdMs: HOLD_MS,
      propose: (held) => releases.push([...held]),
    });
    hold.answered(
      new Map([
        ["a", 16],
        ["b", 16],
      ]),
      (conn) => conn !== "b",
    );
    // b is still waiting for replies: it will send when they come, not now, so only a is awaited — alone.
    assert.equal(hold.command("a", "a1"), false);
    hold.clear();
  });

  it("merges a group answered later into the one awaited", () => {
    const { hold, releases, answered } = recorded();
    answered(["b", 16], ["c", 16]);
    assert.equal(hold.command("b", "b1"), true);
    answered(["a", 16]);
    assert.equal(hold.command("c", "c1"), true, "a, answered since, is awaited too");
    assert.equal(hold.command("a", "a1"), true);
    assert.deepEqual(releases, [["b1", "c1", "a1"]]);
    hold.clear();
  });

  it("proposes what it holds once the hold time is up, and waits for no one after", async () => {
    const { hold, releases, answered } = recorded(5);
    answered(["a", BUSY], ["b", BUSY]);
    assert.equal(hold.command("a", "a1"), true);
    const startMs = performance.now();
    while (releases.length === 0 && performance.now() - startMs < 1000) await sleep(1);
    assert.deepEqual(releases, [["a1"]]);
    assert.ok(performance.now() - startMs < 500, "released by the timer, not by the test's bound");
    assert.equal(hold.timeouts, 1);
    assert.equal(hold.command("a", "a2"), false, "b is not awaited any more");
  });

  it("stops waiting for a connection that closes or comes back with a read", () => {
    const { hold, releases, answered } = recorded();
    answered(["a", BUSY], ["b", BUSY], ["c", BUSY]);
    assert.equal(hold.command("a", "a1"), true);
    hold.stopAwaiting("b");
    assert.deepEqual(releases, [], "c is still awaited");
    hold.stopAwaiting("c");
    assert.deepEqual(releases, [["a1"]]);
    assert.equal(hold.completed, 1);
    hold.stopAwaiting("a");
    assert.deepEqual(releases, [["a1"]], "nothing held, nothing proposed");
  });

  it("drops what it holds when cleared, and its timer with it", async () => {
    const { hold, releases, answered } = recorded(2);
    answered(["a", BUSY], ["b", BUSY]);
    hold.command("a", "a1");
    hold.clear();
    await sleep(20);
    assert.deepEqual(releases, []);
    assert.equal(hold.heldCount, 0);
    assert.equal(hold.command("a", "a2"), false);
  });
});

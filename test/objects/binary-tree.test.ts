import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { BinaryTree, compareKeys, type TreeKey } from "../../src/objects/binary-tree.ts";
import { Driver, roundTrip } from "./harness.ts";

/** Checks the search-tree property and the links: every node reachable once, keys in range. */
function checkShape(tree: BinaryTree): void {
  const seen = new Set<number>();
  const stack: { at: number; low: TreeKey | null; high: TreeKey | null }[] =
    tree.root === -1 ? [] : [{ at: tree.root, low: null, high: null }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    assert.ok(!seen.has(top.at), "no node is reachable twice");
    seen.add(top.at);
    const node = tree.nodes[top.at];
    assert.ok(node !== undefined, "links point into the array");
    if (top.low !== null) assert.ok(compareKeys(node.key, top.low) > 0);
    if (top.high !== null) assert.ok(compareKeys(node.key, top.high) < 0);
    if (node.left !== -1) stack.push({ at: node.left, low: top.low, high: node.key });
    if (node.right !== -1) stack.push({ at: node.right, low: node.key, high: top.high });
  }
  assert.equal(seen.size, tree.nodes.length, "every node is reachable");
}

describe("BinaryTree", () => {
  it("inserts, finds and removes, with numbers before strings", () => {
    const d = new Driver(new BinaryTree());
    assert.equal(d.value(1, "height"), 0);
    for (const k of [5, 2, 8, "b", 1, "a", 10]) assert.equal(d.value(1, "insert", k), true);
    assert.equal(d.value(1, "insert", 5), false);
    assert.deepEqual(d.value(1, "inorder"), [1, 2, 5, 8, 10, "a", "b"]);
    assert.equal(d.value(1, "size"), 7);
    assert.equal(d.value(1, "height"), 5); // 5 → 8 → "b" → "a" → 10 (numbers sort before strings)
    assert.equal(d.value(1, "contains", "a"), true);
    assert.equal(d.value(1, "contains", 3), false);
    assert.equal(d.value(1, "remove", 5), true, "the root, with two children");
    assert.equal(d.value(1, "remove", 5), false);
    assert.deepEqual(d.value(1, "inorder"), [1, 2, 8, 10, "a", "b"]);
    checkShape(d.instance);
    assert.throws(() => d.call(1, "insert", Number.NaN), { name: "ValueError" });
    assert.throws(() => d.call(1, "insert", null as unknown as number), { name: "ValueError" });
  });

  it("handles a degenerate tree thousands deep without recursion", () => {
    const tree = new BinaryTree();
    for (let i = 0; i < 3000; i++) tree.insert(i);
    assert.equal(tree.height(), 3000);
    const copy = roundTrip(tree); // the state encodes without overflowing the stack
    assert.equal(copy.inorder().length, 3000);
    for (let i = 0; i < 3000; i += 2) copy.remove(i);
    assert.equal(copy.size(), 1500);
  });

  it("matches a sorted-array model over random insert/remove sequences", () => {
    const key = fc.oneof(fc.integer({ min: -20, max: 20 }), fc.constantFrom("a", "b", "c", "aa", ""));
    const op = fc.record({ insert: fc.boolean(), key });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        let tree = new BinaryTree();
        const model: TreeKey[] = [];
        ops.forEach(({ insert, key: k }, i) => {
          const at = model.findIndex((m) => compareKeys(m, k) === 0);
          if (insert) {
            assert.equal(tree.insert(k), at < 0);
            if (at < 0) model.push(k);
          } else {
            assert.equal(tree.remove(k), at >= 0);
            if (at >= 0) model.splice(at, 1);
          }
          model.sort(compareKeys);
          if (i % 20 === 19) tree = roundTrip(tree);
        });
        assert.deepEqual(tree.inorder(), model);
        assert.equal(tree.size(), model.length);
        for (const k of model) assert.ok(tree.contains(k));
        const h = tree.height();
        assert.ok(h <= model.length && (model.length === 0) === (h === 0));
        assert.ok(model.length < 2 ** h, "a tree of height h holds fewer than 2^h keys");
        checkShape(tree);
      }),
      { numRuns: 300 },
    );
  });
});

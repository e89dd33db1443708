import { describe, invariant, ValueError } from "./shared.ts";

/** A key of a {@link BinaryTree}: a number (not NaN) or a string. */
export type TreeKey = number | string;

/** One node: its key and the indexes of its children in `BinaryTree.nodes` (-1 for none). */
export interface TreeNode {
  key: TreeKey;
  left: number;
  right: number;
}

/** No child / no root. */
const NONE = -1;

/**
 * A binary search tree of distinct keys (ConCoord's `BinaryTree`), unbalanced as the original.
 *
 * - Keys are numbers (not NaN) or strings; every number sorts before every string, numbers by value and
 *   strings by UTF-16 code units, so the order is the same on every replica.
 * - The nodes live in one flat array, children named by index, instead of nested objects: a degenerate
 *   tree (keys inserted in order) is as deep as it is long, and nested objects that deep would overflow
 *   the stack when the state is encoded. For the same reason every walk here is a loop, not a recursion.
 *
 * @example
 * ```ts
 * const tree = client.object<BinaryTree>("tree");
 * await tree.insert(5);
 * await tree.insert(2);
 * await tree.inorder(); // [2, 5]
 * ```
 */
export class BinaryTree {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["contains", "inorder", "size", "height"];

  /** Every node, in no particular order; removal moves the last node into the freed slot. */
  nodes: TreeNode[] = [];
  /** Index of the root, or -1 when empty. */
  root = NONE;

  /**
   * Inserts `key`; returns false when it was already there.
   *
   * @example
   * ```ts
   * await tree.insert("m"); // true
   * await tree.insert("m"); // false
   * ```
   */
  insert(key: TreeKey): boolean {
    const k = keyArg(key);
    const fresh = this.nodes.length;
    if (this.root === NONE) {
      this.nodes.push({ key: k, left: NONE, right: NONE });
      this.root = fresh;
      return true;
    }
    for (let at = this.root; ; ) {
      const node = this._node(at);
      const order = compareKeys(k, node.key);
      if (order === 0) return false;
      const next = order < 0 ? node.left : node.right;
      if (next === NONE) {
        this.nodes.push({ key: k, left: NONE, right: NONE });
        if (order < 0) node.left = fresh;
        else node.right = fresh;
        return true;
      }
      at = next;
    }
  }

  /**
   * Whether `key` is in the tree.
   *
   * @example
   * ```ts
   * await tree.contains(5); // true
   * ```
   */
  contains(key: TreeKey): boolean {
    const k = keyArg(key);
    for (let at = this.root; at !== NONE; ) {
      const node = this._node(at);
      const order = compareKeys(k, node.key);
      if (order === 0) return true;
      at = order < 0 ? node.left : node.right;
    }
    return false;
  }

  /**
   * Removes `key`; returns false when it was not there.
   *
   * @example
   * ```ts
   * await tree.remove(5); // true
   * ```
   */
  remove(key: TreeKey): boolean {
    const k = keyArg(key);
    // Find the node and the link (parent and side) that points at it.
    let parent = NONE;
    let at = this.root;
    while (at !== NONE) {
      const order = compareKeys(k, this._node(at).key);
      if (order === 0) break;
      parent = at;
      at = order < 0 ? this._node(at).left : this._node(at).right;
    }
    if (at === NONE) return false;
    let target = this._node(at);
    if (target.left !== NONE && target.right !== NONE) {
      // Two children: take the in-order successor's key, then unlink the successor (no left child).
      let successorParent = at;
      let successor = target.right;
      while (this._node(successor).left !== NONE) {
        successorParent = successor;
        successor = this._node(successor).left;
      }
      target.key = this._node(successor).key;
      parent = successorParent;
      at = successor;
      target = this._node(at);
    }
    const child = target.left !== NONE ? target.left : target.right;
    this._relink(parent, at, child);
    this._free(at);
    return true;
  }

  /**
   * Every key in ascending order.
   *
   * @example
   * ```ts
   * await tree.inorder(); // [1, 2, 10, "a"]
   * ```
   */
  inorder(): TreeKey[] {
    const keys: TreeKey[] = [];
    const stack: number[] = [];
    for (let at = this.root; at !== NONE || stack.length > 0; ) {
      while (at !== NONE) {
        stack.push(at);
        at = this._node(at).left;
      }
      const node = this._node(stack.pop()!);
      keys.push(node.key);
      at = node.right;
    }
    invariant(keys.length === this.nodes.length, "every node is reachable from the root, once");
    return keys;
  }

  /**
   * How many keys the tree holds.
   *
   * @example
   * ```ts
   * await tree.size(); // 3
   * ```
   */
  size(): number {
    return this.nodes.length;
  }

  /**
   * The number of nodes on the longest root-to-leaf path: 0 when empty, 1 for a lone root.
   *
   * @example
   * ```ts
   * await tree.height(); // 2
   * ```
   */
  height(): number {
    let height = 0;
    const stack: [number, number][] = this.root === NONE ? [] : [[this.root, 1]];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      const [at, depth] = top;
      height = Math.max(height, depth);
      const node = this._node(at);
      if (node.left !== NONE) stack.push([node.left, depth + 1]);
      if (node.right !== NONE) stack.push([node.right, depth + 1]);
    }
    return height;
  }

  private _node(index: number): TreeNode {
    const node = this.nodes[index];
    invariant(node !== undefined, `node index ${index} is in range`);
    return node;
  }

  /** Makes the link from `parent` (or the root, when -1) that points at `from` point at `to`. */
  private _relink(parent: number, from: number, to: number): void {
    if (parent === NONE) {
      invariant(this.root === from, "a node without parent is the root");
      this.root = to;
      return;
    }
    const node = this._node(parent);
    if (node.left === from) node.left = to;
    else {
      invariant(node.right === from, "the parent links to the node");
      node.right = to;
    }
  }

  /**
   * Drops the unlinked node at `index` from the array: the last node moves into its slot, and the one link
   * to the last node (found by searching for its key, which is unique) is redirected.
   */
  private _free(index: number): void {
    const last = this.nodes.length - 1;
    if (index !== last) {
      const moved = this._node(last);
      let parent = NONE;
      for (let at = this.root; at !== last; ) {
        invariant(at !== NONE, "the moved node is in the tree");
        parent = at;
        at = compareKeys(moved.key, this._node(at).key) < 0 ? this._node(at).left : this._node(at).right;
      }
      this._relink(parent, last, index);
      this.nodes[index] = moved;
    }
    this.nodes.pop();
  }
}

/**
 * The tree's order: numbers before strings, numbers by value, strings by UTF-16 code units.
 *
 * @example
 * ```ts
 * [10, "b", 2, "a"].sort(compareKeys); // [2, 10, "a", "b"]
 * ```
 */
export function compareKeys(a: TreeKey, b: TreeKey): number {
  if (typeof a !== typeof b) return typeof a === "number" ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `key` checked to be a tree key; -0 becomes 0 (they are the same key). */
function keyArg(key: unknown): TreeKey {
  if (typeof key === "string") return key;
  if (typeof key === "number" && !Number.isNaN(key)) return key === 0 ? 0 : key;
  throw new ValueError(`a key must be a number (not NaN) or a string, got ${describe(key)}`);
}

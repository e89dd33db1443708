import { Empty } from "./shared.ts";

/**
 * A LIFO stack (ConCoord's `Stack`). Items are any plain data a client can send.
 *
 * @example
 * ```ts
 * const stack = client.object<Stack>("stack");
 * await stack.push("a");
 * await stack.push("b");
 * await stack.pop(); // "b"
 * ```
 */
export class Stack {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["peek", "size"];

  /** The items, bottom first. */
  items: unknown[] = [];

  /**
   * Pushes an item; returns the new size.
   *
   * @example
   * ```ts
   * await stack.push({ step: 1 }); // 1
   * ```
   */
  push(item: unknown): number {
    this.items.push(item);
    return this.items.length;
  }

  /**
   * Removes and returns the top item; throws `Empty` when there is none.
   *
   * @example
   * ```ts
   * await stack.pop(); // { step: 1 }
   * ```
   */
  pop(): unknown {
    if (this.items.length === 0) throw new Empty("the stack is empty");
    return this.items.pop();
  }

  /**
   * The top item, left in place; throws `Empty` when there is none.
   *
   * @example
   * ```ts
   * await stack.peek(); // "b"
   * ```
   */
  peek(): unknown {
    if (this.items.length === 0) throw new Empty("the stack is empty");
    return this.items[this.items.length - 1];
  }

  /**
   * How many items the stack holds.
   *
   * @example
   * ```ts
   * await stack.size(); // 2
   * ```
   */
  size(): number {
    return this.items.length;
  }
}

/**
 * The ConCoord tutorial's counter: the object `concoord dev` hosts when no file is given.
 *
 * @example
 * ```ts
 * const counter = client.object<Counter>();
 * await counter.increment();
 * await counter.getvalue(); // 1
 * ```
 */
export class Counter {
  /** `getvalue` only reads, so clients may serve it without a log write. */
  static readOnlyMethods = ["getvalue"];

  value = 0;

  decrement(): number {
    this.value -= 1;
    return this.value;
  }

  increment(): number {
    this.value += 1;
    return this.value;
  }

  getvalue(): number {
    return this.value;
  }
}

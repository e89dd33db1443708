/**
 * The lowest of a set of numbers that are added one by one and settle in any order: a binary min-heap
 * with lazy removal. Adding is O(log n); asking for the lowest drops the settled numbers it finds on
 * top, so each number is dropped once (amortized O(log n)), where scanning every outstanding call for
 * each new call was O(n).
 *
 * Settled numbers below an outstanding one stay until it settles; past `sizeMax` the heap is rebuilt
 * from the outstanding numbers alone, so one call that waits for minutes cannot grow it without bound.
 *
 * @example
 * ```ts
 * const inFlight = new Set([5, 6]);
 * const seqs = new LowestOutstanding({ sizeMax: 4096 });
 * for (const seq of inFlight) seqs.add(seq, (s) => inFlight.has(s));
 * inFlight.delete(5);
 * seqs.lowest((s) => inFlight.has(s)); // 6: 5 has settled
 * ```
 */
export class LowestOutstanding {
  #heap: number[] = [];
  readonly #sizeMax: number;

  constructor(options: { sizeMax: number }) {
    this.#sizeMax = options.sizeMax;
  }

  get size(): number {
    return this.#heap.length;
  }

  add(value: number, isOutstanding: (value: number) => boolean): void {
    if (this.#heap.length >= this.#sizeMax) {
      // Rebuilt from the distinct outstanding numbers (a sorted array is a heap); a number can be in
      // twice when it settled and was added again before the first entry reached the top.
      const kept = new Set(this.#heap.filter(isOutstanding));
      kept.add(value);
      this.#heap = [...kept].sort((a, b) => a - b);
      return;
    }
    const heap = this.#heap;
    heap.push(value);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= value) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = value;
  }

  /** The lowest number still outstanding, or undefined when none is. */
  lowest(isOutstanding: (value: number) => boolean): number | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && !isOutstanding(heap[0]!)) this.#popTop();
    return heap[0];
  }

  #popTop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
      if (heap[child]! >= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

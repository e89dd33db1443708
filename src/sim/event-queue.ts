/**
 * Virtual time: a min-heap of timed callbacks. Ties run in insertion order, so a run depends only on
 * its seed.
 *
 * @example
 * ```ts
 * const q = new EventQueue();
 * q.at(5, () => console.log("five"));
 * q.runUntil(10);
 * ```
 */
export class EventQueue {
  #now = 0;
  #seq = 0;
  #heap: { time: number; seq: number; run: () => void }[] = [];

  get now(): number {
    return this.#now;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Runs `run` at absolute virtual time `time` (not before now). */
  at(time: number, run: () => void): void {
    const item = { time: Math.max(time, this.#now), seq: this.#seq++, run };
    const heap = this.#heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** Runs `run` after `delay` units. */
  after(delay: number, run: () => void): void {
    this.at(this.#now + delay, run);
  }

  /** Runs events in order until the next one is later than `time` or `stop()` returns true. */
  runUntil(time: number, stop: () => boolean = () => false, eventsMax = 50_000_000): void {
    for (let count = 0; count < eventsMax; count++) {
      const top = this.#heap[0];
      if (!top || top.time > time || stop()) break;
      this.#pop();
      this.#now = top.time;
      top.run();
    }
    if (this.#now < time && !stop()) this.#now = time;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  }
}

function before(a: { time: number; seq: number }, b: { time: number; seq: number }): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

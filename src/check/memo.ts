/**
 * Memoisation for the WGL search: the set of linearized operations as a bitset with an incrementally
 * maintained hash, and a cache of (bitset, state) pairs already explored.
 *
 * Two configurations with the same linearized set and the same model state have identical futures, so
 * once one of them failed the other need not be explored. This is what turns the factorial search into
 * something usually close to linear.
 *
 * @module
 */

const NO_RECORD = -1;

/**
 * A deterministic stream of 32-bit values (splitmix32) for Zobrist hashing. Fixed seed: runs must be
 * reproducible, and adversarial inputs are not a concern for a test-time checker.
 */
function zobristTable(size: number): Int32Array {
  const table = new Int32Array(size);
  let seed = 0x2545f491;
  for (let i = 0; i < size; i++) {
    seed = (seed + 0x9e3779b9) | 0;
    let z = seed;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    table[i] = z ^ (z >>> 16);
  }
  return table;
}

/**
 * The set of linearized operations (by index within the partition), with a Zobrist hash that is updated
 * in O(1) per change so the cache never has to rehash the whole bitset.
 *
 * @example
 * const set = new LinearizedSet(100);
 * set.add(3);
 * set.has(3); // true
 * set.remove(3); // set.hash is back to 0
 */
export class LinearizedSet {
  /** The bits, 32 operations per word (Int32Array so comparisons need no unsigned conversion). */
  readonly words: Int32Array;
  /** XOR of the Zobrist values of the members; 0 for the empty set. */
  hash = 0;
  private readonly zobrist: Int32Array;

  constructor(size: number) {
    this.words = new Int32Array(Math.max(1, Math.ceil(size / 32)));
    this.zobrist = zobristTable(size);
  }

  /** Whether operation `index` is in the set. */
  has(index: number): boolean {
    return (this.words[index >> 5]! & (1 << (index & 31))) !== 0;
  }

  /** Add operation `index`; it must not be a member already. */
  add(index: number): void {
    const word = index >> 5;
    const bit = 1 << (index & 31);
    const current = this.words[word]!;
    if ((current & bit) !== 0) throw new Error(`invariant: operation index ${index} linearized twice`);
    this.words[word] = current | bit;
    this.hash ^= this.zobrist[index]!;
  }

  /** Remove operation `index`; it must be a member. */
  remove(index: number): void {
    const word = index >> 5;
    const bit = 1 << (index & 31);
    const current = this.words[word]!;
    if ((current & bit) === 0) {
      throw new Error(`invariant: operation index ${index} removed but not linearized`);
    }
    this.words[word] = current & ~bit;
    this.hash ^= this.zobrist[index]!;
  }
}

/**
 * A set of (linearized set, state id) pairs. Records live in one growable Int32Array pool laid out as
 * `[stateId, nextRecordInChain, ...words]`, chained per hash bucket, so adding a pair allocates nothing
 * in the common case.
 *
 * @example
 * const cache = new LinearizationCache(set.words.length);
 * cache.addIfAbsent(set, 0); // true: first time
 * cache.addIfAbsent(set, 0); // false: already explored
 */
export class LinearizationCache {
  private readonly wordCount: number;
  private readonly recordSize: number;
  private pool: Int32Array;
  private records = 0;
  private readonly chains = new Map<number, number>();

  constructor(wordCount: number) {
    this.wordCount = wordCount;
    this.recordSize = 2 + wordCount;
    this.pool = new Int32Array(this.recordSize * 1024);
  }

  /** Number of distinct pairs stored. */
  get size(): number {
    return this.records;
  }

  /** Add the pair unless present; returns whether it was added (i.e. this configuration is new). */
  addIfAbsent(set: LinearizedSet, stateId: number): boolean {
    const words = set.words;
    if (words.length !== this.wordCount) throw new Error("invariant: bitset width differs from the cache's");
    // Masked to 30 bits so the Map key stays a small integer (fast path in V8).
    const bucket = (set.hash ^ Math.imul(stateId + 1, 0x9e3779b1)) & 0x3fffffff;
    const first = this.chains.get(bucket) ?? NO_RECORD;
    const pool = this.pool;
    for (let record = first; record !== NO_RECORD; record = pool[record * this.recordSize + 1]!) {
      const base = record * this.recordSize;
      if (pool[base] !== stateId) continue;
      let same = true;
      for (let w = 0; w < this.wordCount; w++) {
        if (pool[base + 2 + w] !== words[w]) {
          same = false;
          break;
        }
      }
      if (same) return false;
    }
    this.append(words, stateId, first);
    this.chains.set(bucket, this.records - 1);
    return true;
  }

  private append(words: Int32Array, stateId: number, nextRecord: number): void {
    let base = this.records * this.recordSize;
    if (base + this.recordSize > this.pool.length) {
      const grown = new Int32Array(this.pool.length * 2);
      grown.set(this.pool);
      this.pool = grown;
    }
    const pool = this.pool;
    pool[base++] = stateId;
    pool[base++] = nextRecord;
    pool.set(words, base);
    this.records++;
  }
}

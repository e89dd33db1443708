/**
 * The time-ordered list of call and return events that the WGL search walks, stored as a doubly linked
 * list in typed arrays so that linearizing an operation (lift) and undoing it (unlift) are O(1) and
 * allocation-free.
 *
 * Entry numbering is fixed by the operation index: operation `i` owns call entry `2 * i` and return entry
 * `2 * i + 1`, so "is this a call", "which operation" and "where is my return" are bit operations rather
 * than lookups.
 *
 * @module
 */

import type { Operation } from "./history.ts";

/**
 * The "no entry" link value.
 *
 * @example
 * if (list.next[list.head] === NIL) console.log("everything linearized");
 */
export const NIL = -1;

/**
 * A doubly linked list of call/return entries with a sentinel head.
 *
 * @example
 * const list = buildEntryList(ops);
 * for (let e = list.next[list.head]!; e !== NIL; e = list.next[e]!) console.log(isCallEntry(e), opOfEntry(e));
 */
export interface EntryList {
  /** Index of the sentinel that precedes the first entry (it belongs to no operation). */
  readonly head: number;
  /** Successor of each entry, or {@link NIL}. */
  readonly next: Int32Array;
  /** Predecessor of each entry (the head for the first one); {@link NIL} only for the head. */
  readonly prev: Int32Array;
}

/**
 * True for call entries, false for return entries.
 *
 * @example
 * isCallEntry(4); // true: the call of operation 2
 */
export function isCallEntry(entry: number): boolean {
  return (entry & 1) === 0;
}

/**
 * The index (within the partition) of the operation an entry belongs to.
 *
 * @example
 * opOfEntry(5); // 2: the return of operation 2
 */
export function opOfEntry(entry: number): number {
  return entry >> 1;
}

/**
 * The time an operation's response is taken to arrive. Unknown outcomes never force a return: their
 * effect may land at any time after the call, so their return sits after every known event.
 *
 * @example
 * effectiveReturnTime({ id: 0, clientId: 1, input: 0, output: undefined, callTime: 3, returnTime: 9 }); // Infinity
 */
export function effectiveReturnTime<I, O>(op: Operation<I, O>): number {
  return op.output === undefined ? Number.POSITIVE_INFINITY : op.returnTime;
}

/**
 * Build the entry list of a history, sorted by time.
 *
 * Tie rule: at equal times, calls come before returns. So an operation that returns at time t and one that
 * is called at time t count as concurrent: "a happens before b" only when `a.returnTime < b.callTime`
 * strictly. This is the conservative choice; with coarse clocks equal stamps do not prove an order.
 * Remaining ties are broken by operation index so the search (and its report) is deterministic.
 *
 * @example
 * const list = buildEntryList(ops); // list.next[list.head] is the earliest call
 */
export function buildEntryList<I, O>(ops: readonly Operation<I, O>[]): EntryList {
  const n = ops.length;
  const callTimes: number[] = new Array(n);
  const returnTimes: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    callTimes[i] = op.callTime;
    returnTimes[i] = effectiveReturnTime(op);
  }
  // Calls and returns are sorted separately and then merged: harnesses record in roughly time order, so
  // each sort sees nearly sorted input (cheap for TimSort), and the tie rule lives in one place, the merge.
  const calls = sortedByTime(callTimes);
  const returns = sortedByTime(returnTimes);

  const head = 2 * n;
  const next = new Int32Array(2 * n + 1).fill(NIL);
  const prev = new Int32Array(2 * n + 1).fill(NIL);
  const seenCall = new Uint8Array(n);
  let last = head;
  let c = 0;
  let r = 0;
  while (r < n) {
    let entry: number;
    // `<=`: at equal times the call goes first, so equal stamps never create a real-time order.
    if (c < n && callTimes[calls[c]!]! <= returnTimes[returns[r]!]!) {
      const op = calls[c++]!;
      seenCall[op] = 1;
      entry = 2 * op;
    } else {
      const op = returns[r++]!;
      if (seenCall[op] !== 1)
        throw new Error(`invariant: return of operation index ${op} sorted before its call`);
      entry = 2 * op + 1;
    }
    next[last] = entry;
    prev[entry] = last;
    last = entry;
  }
  return { head, next, prev };
}

/** Operation indices ordered by `times`, ties by index (so the search is deterministic). */
function sortedByTime(times: readonly number[]): number[] {
  const order: number[] = new Array(times.length);
  for (let i = 0; i < times.length; i++) order[i] = i;
  // Explicit comparisons, not subtraction: Infinity - Infinity is NaN and would corrupt the sort.
  return order.sort((a, b) => {
    const ta = times[a]!;
    const tb = times[b]!;
    return ta < tb ? -1 : ta > tb ? 1 : a - b;
  });
}

/**
 * Remove a call entry and its matching return entry from the list (the operation is linearized). Their own
 * links are left intact so that {@link unlift} can put them back.
 *
 * @example
 * lift(list, 2 * opIndex);
 */
export function lift(list: EntryList, call: number): void {
  const { next, prev } = list;
  const ret = call + 1;
  next[prev[call]!] = next[call]!;
  if (next[call] !== NIL) prev[next[call]!] = prev[call]!;
  next[prev[ret]!] = next[ret]!;
  if (next[ret] !== NIL) prev[next[ret]!] = prev[ret]!;
}

/**
 * Undo {@link lift}. Must be applied in reverse lift order, which the search's stack guarantees; the
 * return entry goes back first because lifting removed it last.
 *
 * @example
 * unlift(list, 2 * opIndex);
 */
export function unlift(list: EntryList, call: number): void {
  const { next, prev } = list;
  const ret = call + 1;
  next[prev[ret]!] = ret;
  if (next[ret] !== NIL) prev[next[ret]!] = ret;
  next[prev[call]!] = call;
  if (next[call] !== NIL) prev[next[call]!] = call;
}

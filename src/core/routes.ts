/**
 * Which host request waits for the reply to `(clientId, seq)`. Keyed by numbers in two levels rather
 * than by a `"clientId:seq"` string: the leader looks a route up twice per command, and building and
 * hashing a string for it cost more than the lookups.
 *
 * @example
 * ```ts
 * const routes = new RequestRoutes();
 * routes.set(7, 3, 101);
 * routes.take(7, 3); // 101, and the route is gone
 * ```
 */
export class RequestRoutes {
  readonly #byClient = new Map<number, Map<number, number>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(clientId: number, seq: number): boolean {
    return this.#byClient.get(clientId)?.has(seq) ?? false;
  }

  /** Routes the reply of `(clientId, seq)` to `requestId`, replacing an older request for it. */
  set(clientId: number, seq: number, requestId: number): void {
    let bySeq = this.#byClient.get(clientId);
    if (!bySeq) {
      bySeq = new Map();
      this.#byClient.set(clientId, bySeq);
    }
    if (!bySeq.has(seq)) this.#size++;
    bySeq.set(seq, requestId);
  }

  /** The request waiting for `(clientId, seq)`, removed; undefined when none waits. */
  take(clientId: number, seq: number): number | undefined {
    const bySeq = this.#byClient.get(clientId);
    const requestId = bySeq?.get(seq);
    if (requestId === undefined) return undefined;
    bySeq!.delete(seq);
    if (bySeq!.size === 0) this.#byClient.delete(clientId);
    this.#size--;
    return requestId;
  }

  /** Every waiting request, then none. */
  drain(): number[] {
    const requestIds: number[] = [];
    for (const bySeq of this.#byClient.values()) requestIds.push(...bySeq.values());
    this.#byClient.clear();
    this.#size = 0;
    return requestIds;
  }
}

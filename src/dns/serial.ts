/**
 * The SOA serial, `YYYYMMDDnn` (UTC date and a counter), grown on every change of the view. A change
 * on a new day starts from that day's `00`; more than 100 changes in a day run on into the following
 * day's numbers, which keeps the serial growing, as secondaries require (RFC 1982 arithmetic is never
 * needed because it only grows by small steps).
 *
 * @example
 * ```ts
 * const serial = new ZoneSerial(Date.now());
 * serial.value; // 2026112200
 * serial.bump(Date.now()); // 2026112201
 * ```
 */
export class ZoneSerial {
  #value: number;

  constructor(nowMs: number) {
    this.#value = daySerial(nowMs);
  }

  get value(): number {
    return this.#value;
  }

  /** A new view: the serial grows, at least to today's first number. */
  bump(nowMs: number): number {
    this.#value = Math.max(this.#value + 1, daySerial(nowMs));
    if (this.#value > SERIAL_MAX) throw new Error(`SOA serial ${this.#value} beyond 32 bits`);
    return this.#value;
  }
}

/** An SOA serial is an unsigned 32-bit number. */
const SERIAL_MAX = 0xffff_ffff;

function daySerial(nowMs: number): number {
  const d = new Date(nowMs);
  return (d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate()) * 100;
}

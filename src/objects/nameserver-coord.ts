import { describe, stringArg, ValueError } from "./shared.ts";

/** The record types a {@link NameserverCoord} keeps, in the order `records()` lists them. */
export const RECORD_TYPES = ["A", "AAAA", "CNAME", "MX", "NS", "SRV", "TXT"] as const;

/** One of {@link RECORD_TYPES}. */
export type RecordType = (typeof RECORD_TYPES)[number];

/** One DNS record of a domain, as `records()` returns it. */
export interface DnsRecord {
  readonly type: RecordType;
  readonly value: string;
}

/**
 * The records of the domains a DNS master serves, kept consistent across replicas (ConCoord's
 * `NameserverCoord`, the object behind OpenReplica's own name servers).
 *
 * - Domains are compared case-insensitively and without a trailing dot (`Example.COM.` is
 *   `example.com`), as DNS does; they are stored that way.
 * - Each domain has, per record type, a set of values (strings, kept as given). Types are limited to A,
 *   AAAA, SRV, TXT, NS, CNAME and MX (case-insensitive), else `ValueError`.
 * - A domain with no records left disappears from `domains()`.
 *
 * @example
 * ```ts
 * const dns = client.object<NameserverCoord>("dns");
 * await dns.addRecord("example.com", "A", "192.0.2.1");
 * await dns.setRecords("example.com", "NS", ["ns1.example.com", "ns2.example.com"]);
 * await dns.records("example.com"); // [{ type: "A", value: "192.0.2.1" }, { type: "NS", … }, …]
 * ```
 */
export class NameserverCoord {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["records", "domains"];

  /** Domain → record type → values. No empty inner maps or sets are kept. */
  zones = new Map<string, Map<RecordType, Set<string>>>();

  /**
   * Adds one record; returns whether it was new.
   *
   * @example
   * ```ts
   * await dns.addRecord("example.com", "MX", "10 mail.example.com"); // true
   * ```
   */
  addRecord(domain: string, type: string, value: string): boolean {
    const name = domainArg(domain);
    const kind = typeArg(type);
    const v = stringArg(value, "value");
    const types = this.zones.get(name) ?? new Map<RecordType, Set<string>>();
    const values = types.get(kind) ?? new Set<string>();
    if (values.has(v)) return false;
    values.add(v);
    types.set(kind, values);
    this.zones.set(name, types);
    return true;
  }

  /**
   * Removes one record; returns whether it was there.
   *
   * @example
   * ```ts
   * await dns.removeRecord("example.com", "A", "192.0.2.1"); // true
   * ```
   */
  removeRecord(domain: string, type: string, value: string): boolean {
    const name = domainArg(domain);
    const kind = typeArg(type);
    const v = stringArg(value, "value");
    const values = this.zones.get(name)?.get(kind);
    if (values === undefined || !values.delete(v)) return false;
    if (values.size === 0) this._dropType(name, kind);
    return true;
  }

  /**
   * Replaces every record of one type of a domain with `values` (an empty list removes them all).
   *
   * @example
   * ```ts
   * await dns.setRecords("example.com", "A", ["192.0.2.1", "192.0.2.2"]);
   * ```
   */
  setRecords(domain: string, type: string, values: string[]): void {
    const name = domainArg(domain);
    const kind = typeArg(type);
    if (!Array.isArray(values)) throw new ValueError(`values must be an array, got ${describe(values)}`);
    const set = new Set<string>(values.map((v: unknown) => stringArg(v, "value")));
    if (set.size === 0) {
      this._dropType(name, kind);
      return;
    }
    const types = this.zones.get(name) ?? new Map<RecordType, Set<string>>();
    types.set(kind, set);
    this.zones.set(name, types);
  }

  /**
   * A domain's records, sorted by type (A, AAAA, CNAME, MX, NS, SRV, TXT) then value; none for an unknown
   * domain.
   *
   * @example
   * ```ts
   * await dns.records("example.com"); // [{ type: "A", value: "192.0.2.1" }]
   * ```
   */
  records(domain: string): DnsRecord[] {
    const types = this.zones.get(domainArg(domain));
    if (types === undefined) return [];
    const records: DnsRecord[] = [];
    for (const type of RECORD_TYPES)
      for (const value of [...(types.get(type) ?? [])].sort()) records.push({ type, value });
    return records;
  }

  /**
   * The domains that have records, sorted.
   *
   * @example
   * ```ts
   * await dns.domains(); // ["example.com", "www.example.com"]
   * ```
   */
  domains(): string[] {
    return [...this.zones.keys()].sort();
  }

  /** Removes every record of `kind` from `name`, and the domain when that was its last type. */
  private _dropType(name: string, kind: RecordType): void {
    const types = this.zones.get(name);
    if (types === undefined) return;
    types.delete(kind);
    if (types.size === 0) this.zones.delete(name);
  }
}

/** The domain in its stored form: lower case, without one trailing dot; `ValueError` when empty. */
function domainArg(domain: unknown): string {
  const name = stringArg(domain, "domain").toLowerCase().replace(/\.$/, "");
  if (name === "") throw new ValueError(`domain must name a domain, got ${describe(domain)}`);
  return name;
}

/** `type` as one of {@link RECORD_TYPES} (any case); `ValueError` otherwise. */
function typeArg(type: unknown): RecordType {
  const upper = stringArg(type, "type").toUpperCase();
  const known = RECORD_TYPES.find((t) => t === upper);
  if (known === undefined)
    throw new ValueError(`record type must be one of ${RECORD_TYPES.join(", ")}, got ${describe(type)}`);
  return known;
}

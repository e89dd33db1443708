import type { Answer, Packet, Question } from "dns-packet";
import type { ClusterView } from "./view.ts";
import { ipaddrName, ipFromIpaddrName, srvName, txtChunks, viewRecordSets } from "./view.ts";

/** What a name server answers from: the view, its SOA serial, and the TTL of every record. */
export interface ZoneSnapshot {
  readonly view: ClusterView;
  /** `YYYYMMDDnn`, grown on every change of the view (see ZoneSerial). */
  readonly serial: number;
  readonly ttlSeconds: number;
}

/** Response codes this server uses (RFC 1035 §4.1.1). */
export const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const QR_BIT = 1 << 15;
const AA_BIT = 1 << 10;
const RD_BIT = 1 << 8;
const OPCODE_QUERY = 0;

/** SOA timers of the original (refresh, retry, expire); the negative TTL is the zone's TTL. */
const SOA_REFRESH_S = 86_000;
const SOA_RETRY_S = 7_200;
const SOA_EXPIRE_S = 360_000;

/**
 * Answers one decoded query for the zone, authoritatively. Pure: the same query and snapshot give the
 * same response, so it is tested without sockets.
 *
 * - apex: A/AAAA (replicas), TXT (every node and role), NS (name servers, named `<ip>.ipaddr.<domain>`,
 *   with glue), SOA; ANY gives all of them;
 * - `_concoord._tcp.<domain>` SRV: one per replica, with the targets' addresses as additional records;
 * - `<ip>.ipaddr.<domain>` A/AAAA: the address, for every node of the view;
 * - other names inside the zone: NXDOMAIN (or no data for a name that exists with other types), with
 *   the SOA in the authority section for negative caching; names outside it: REFUSED.
 *
 * @example
 * ```ts
 * const response = answerQuery(dnsPacket.decode(bytes), { view, serial: 2026112201, ttlSeconds: 30 });
 * ```
 */
export function answerQuery(query: Packet, zone: ZoneSnapshot): Packet {
  const questions = query.questions ?? [];
  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  const rd = (query.flags ?? 0) & RD_BIT;
  const reply = (rcode: number, authoritative: boolean, sections: Sections = EMPTY): Packet => ({
    id: query.id ?? 0,
    type: "response",
    flags: QR_BIT | (opcode << 11) | (authoritative ? AA_BIT : 0) | rd | rcode,
    questions: questions.slice(0, 1),
    answers: sections.answers,
    authorities: sections.authorities,
    additionals: sections.additionals,
  });
  if (opcode !== OPCODE_QUERY) return reply(RCODE.NOTIMP, false);
  if (questions.length !== 1) return reply(RCODE.FORMERR, false);
  const question = questions[0]!;
  const name = question.name.toLowerCase().replace(/\.$/, "");
  const domain = zone.view.domain;
  const inZone = name === domain || name.endsWith(`.${domain}`);
  const klass = question.class ?? "IN";
  if (!inZone || (klass !== "IN" && klass !== "ANY")) return reply(RCODE.REFUSED, false);
  const records = zoneRecords(zone);
  const owned = records.filter((r) => r.name === name);
  if (owned.length === 0) {
    // A name with nothing of its own may still lead to names that exist (`ipaddr.<domain>`, `_tcp.…`):
    // such an empty non-terminal exists, with no data (RFC 8020 keeps NXDOMAIN for what is truly absent).
    const exists = records.some((r) => r.name.endsWith(`.${name}`));
    return reply(exists ? RCODE.NOERROR : RCODE.NXDOMAIN, true, negative(records));
  }
  const answers = owned.filter((r) => (question.type as string) === "ANY" || r.type === question.type);
  if (answers.length === 0) return reply(RCODE.NOERROR, true, negative(records));
  return reply(RCODE.NOERROR, true, { answers, authorities: [], additionals: glue(answers, records) });
}

/** The smallest response that tells a UDP client to ask again over TCP: header, question, TC set. */
export function truncatedResponse(response: Packet): Packet {
  return {
    ...response,
    flags: (response.flags ?? 0) | (1 << 9),
    answers: [],
    authorities: [],
    additionals: [],
  };
}

interface Sections {
  readonly answers: Answer[];
  readonly authorities: Answer[];
  readonly additionals: Answer[];
}

const EMPTY: Sections = { answers: [], authorities: [], additionals: [] };

function negative(records: readonly Answer[]): Sections {
  return { answers: [], authorities: records.filter((r) => r.type === "SOA"), additionals: [] };
}

/** Addresses for the names that NS and SRV answers point at, so a resolver needs no second query. */
function glue(answers: readonly Answer[], records: readonly Answer[]): Answer[] {
  const targets = new Set<string>();
  for (const a of answers) {
    if (a.type === "NS") targets.add(a.data);
    if (a.type === "SRV") targets.add(a.data.target);
  }
  return records.filter((r) => (r.type === "A" || r.type === "AAAA") && targets.has(r.name));
}

/** Records built per snapshot: a server keeps one snapshot per view, so queries do not rebuild them. */
const recordsBySnapshot = new WeakMap<ZoneSnapshot, readonly Answer[]>();

/** Every record of the zone, built once per snapshot. */
export function zoneRecords(zone: ZoneSnapshot): readonly Answer[] {
  let records = recordsBySnapshot.get(zone);
  if (!records) {
    records = buildRecords(zone);
    recordsBySnapshot.set(zone, records);
  }
  return records;
}

function buildRecords(zone: ZoneSnapshot): Answer[] {
  const { view, ttlSeconds: ttl } = zone;
  const domain = view.domain;
  const sets = viewRecordSets(view);
  const nameservers = [...new Set(view.nodes.filter((n) => n.role === "NAMESERVER").map((n) => n.host))]
    .sort()
    .map((ip) => ipaddrName(ip, domain));
  const records: Answer[] = [];
  for (const ip of sets.a) records.push({ name: domain, type: "A", class: "IN", ttl, data: ip });
  for (const ip of sets.aaaa) records.push({ name: domain, type: "AAAA", class: "IN", ttl, data: ip });
  records.push({ name: domain, type: "TXT", class: "IN", ttl, data: txtChunks(sets.txt) });
  for (const ns of nameservers) records.push({ name: domain, type: "NS", class: "IN", ttl, data: ns });
  records.push({
    name: domain,
    type: "SOA",
    class: "IN",
    ttl,
    data: {
      mname: nameservers[0] ?? domain,
      rname: `dns-admin.${domain}`,
      serial: zone.serial,
      refresh: SOA_REFRESH_S,
      retry: SOA_RETRY_S,
      expire: SOA_EXPIRE_S,
      minimum: ttl,
    },
  });
  for (const srv of sets.srv) {
    records.push({
      name: srvName(domain),
      type: "SRV",
      class: "IN",
      ttl,
      data: { priority: 0, weight: 100, port: srv.port, target: srv.target },
    });
  }
  const ips = new Set(view.nodes.map((n) => n.host));
  for (const ip of [...ips].sort()) {
    const name = ipaddrName(ip, domain);
    if (ipFromIpaddrName(name, domain) === null) continue;
    records.push({ name, type: ip.includes(":") ? "AAAA" : "A", class: "IN", ttl, data: ip });
  }
  return records;
}

/** A question as the server logs it. */
export function describeQuestion(question: Question | undefined): string {
  return question ? `${question.type} ${question.name}` : "(no question)";
}

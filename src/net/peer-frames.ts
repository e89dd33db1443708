/**
 * The two peer messages of every round — the leader's `accept` and each follower's `accepted` — written
 * and read field by field. They stay maps on the wire, byte for byte what msgpackr writes for them (keys
 * in the order the core makes them), so peers need nothing new to read them; only this node's work
 * changes: msgpackr's general writer and reader, which also serve every other frame, sat on every
 * round's path (and were deoptimized and recompiled as other frames' shapes went through them).
 *
 * Reading accepts only the exact shape written here, with every field checked as the validator checks
 * it; anything else — other key orders, other header widths, extra fields, damage — returns null and
 * takes the general path, which reads and judges it.
 *
 * @example
 * ```ts
 * if (writeRoundPeerFrame(writer, frame)) payload = writer.take();
 * const frame = readRoundPeerFrame(payload) ?? generalDecode(payload);
 * ```
 *
 * @module
 */
import type { Ballot } from "../core/ballot.ts";
import type { SlotValue } from "../core/messages.ts";
import { EncodedBatch, encodedBatch } from "../encoding/batch-bytes.ts";
import { MsgpackReader, NOT_NATURAL } from "../encoding/msgpack-reader.ts";
import type { MsgpackWriter } from "../encoding/msgpack-writer.ts";
import type { Frame } from "./frames.ts";

type PeerFrame = Extract<Frame, { t: "peer" }>;

/**
 * Writes `frame` and returns true when it is an `accept` or `accepted` peer message; writes nothing and
 * returns false for any other frame.
 *
 * @example
 * ```ts
 * writeRoundPeerFrame(writer, { t: "peer", m: { type: "accepted", ballot, slots: [7] } }); // true
 * ```
 */
export function writeRoundPeerFrame(w: MsgpackWriter, frame: Frame): boolean {
  if (frame.t !== "peer") return false;
  const m = frame.m;
  if (m.type !== "accept" && m.type !== "accepted") return false;
  w.map(2);
  w.string("t");
  w.string("peer");
  w.string("m");
  if (m.type === "accept") {
    writeMessageHead(w, 5, "accept", m.ballot);
    w.string("entries");
    w.array(m.entries.length);
    for (const entry of m.entries) {
      w.map(2);
      w.string("slot");
      w.number(entry.slot);
      // The batch's own bytes, encoded once by whoever made it and forwarded as they are.
      w.string("value");
      w.bytes(encodedBatch(entry.value));
    }
    w.string("commitThrough");
    w.number(m.commitThrough);
    w.string("compactThrough");
    w.number(m.compactThrough);
  } else {
    writeMessageHead(w, 3, "accepted", m.ballot);
    w.string("slots");
    w.array(m.slots.length);
    for (const slot of m.slots) w.number(slot);
  }
  return true;
}

/** The message's map header of `fields` entries, its type and its ballot, the first fields of both. */
function writeMessageHead(w: MsgpackWriter, fields: number, type: string, ballot: Ballot): void {
  w.map(fields);
  w.string("type");
  w.string(type);
  w.string("ballot");
  w.ballot(ballot);
}

/**
 * An `accept` or `accepted` peer frame in exactly the form {@link writeRoundPeerFrame} writes, read field
 * by field and checked as the validator checks it (each batch holding a copy of its bytes, for the
 * log); null for any other payload.
 *
 * @example
 * ```ts
 * readRoundPeerFrame(encodeFrame(accepted))?.m.type; // "accepted"
 * ```
 */
export function readRoundPeerFrame(payload: Uint8Array): PeerFrame | null {
  // Most frames a leader reads are commands: one byte tells, before any reader is made.
  if (payload[0] !== 0x82) return null;
  const r = new MsgpackReader(payload);
  if (r.mapLength() !== 2 || !r.fixstr("t") || !r.fixstr("peer") || !r.fixstr("m")) return null;
  const fields = r.mapLength();
  if (!r.fixstr("type")) return null;
  if (fields === 5 && r.fixstr("accept")) return readAccept(r);
  if (fields === 3 && r.fixstr("accepted")) return readAccepted(r);
  return null;
}

function readAccept(r: MsgpackReader): PeerFrame | null {
  const head = readBallotAndList(r, "entries");
  if (head === null) return null;
  const { ballot, count } = head;
  const entries: SlotValue[] = [];
  for (let i = 0; i < count; i++) {
    if (r.mapLength() !== 2 || !r.fixstr("slot")) return null;
    const slot = r.natural();
    if (slot === NOT_NATURAL || !r.fixstr("value")) return null;
    const view = r.bytesView();
    if (view === null) return null;
    // A copy: the batch lives in the log for long after the socket chunk it came in is gone.
    const bytes = view.slice();
    // Only a batch read and checked field by field stays on this path; the general one judges the rest.
    const batch = EncodedBatch.read(bytes);
    if (batch === null) return null;
    entries.push({ slot, value: batch });
  }
  if (!r.fixstr("commitThrough")) return null;
  const commitThrough = r.natural();
  if (commitThrough === NOT_NATURAL || !r.fixstr("compactThrough")) return null;
  const compactThrough = r.natural();
  if (compactThrough === NOT_NATURAL || !r.atEnd()) return null;
  return { t: "peer", m: { type: "accept", ballot, entries, commitThrough, compactThrough } };
}

function readAccepted(r: MsgpackReader): PeerFrame | null {
  const head = readBallotAndList(r, "slots");
  if (head === null) return null;
  const { ballot, count } = head;
  const slots: number[] = [];
  for (let i = 0; i < count; i++) {
    const slot = r.natural();
    if (slot === NOT_NATURAL) return null;
    slots.push(slot);
  }
  return r.atEnd() ? { t: "peer", m: { type: "accepted", ballot, slots } } : null;
}

/** The fields both messages start with: the ballot, then the length of the list `key` (the reader bounds it as the validator does). */
function readBallotAndList(r: MsgpackReader, key: string): { ballot: Ballot; count: number } | null {
  if (!r.fixstr("ballot") || r.mapLength() !== 2 || !r.fixstr("round")) return null;
  const round = r.natural();
  if (round === NOT_NATURAL || !r.fixstr("nodeId")) return null;
  const nodeId = r.natural();
  if (nodeId === NOT_NATURAL || !r.fixstr(key)) return null;
  const count = r.arrayLength();
  return count < 0 ? null : { ballot: { round, nodeId }, count };
}

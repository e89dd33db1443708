/**
 * The per-call frames — a client's command or read, and an `ok` reply with a result — travel as msgpack
 * arrays instead of maps: `["c", id, clientId, seq, ackedThrough, op, timeoutMs | null]`,
 * `["q", id, query]` and `["r", id, result]`. These are most of the frames a busy node reads and
 * writes, and without the field names they encode in about half the time and decode (with validation)
 * in about a third. Any frame may still travel as a map; the decoder expands an array back into the map
 * form, which the validator then checks like any other frame.
 *
 * @example
 * ```ts
 * writeCompactFrame(writer, { t: "read", id: 7, query }); // writes ["q", 7, query]
 * expandCompactFrame(["q", 7, query]);       // { t: "read", id: 7, query }
 * ```
 *
 * @module
 */
import {
  OP_COMMAND_FIELDS,
  opCommandFromFields,
  readOpCommandItems,
  writeOpCommandItems,
} from "../encoding/batch-bytes.ts";
import { MsgpackReader, NOT_NATURAL } from "../encoding/msgpack-reader.ts";
import type { MsgpackWriter } from "../encoding/msgpack-writer.ts";
import type { CommandFrame, Frame } from "./frames.ts";
import { BadFrameError } from "./validate.ts";

const COMMAND_TAG = "c";
const READ_TAG = "q";
const REPLY_TAG = "r";

/**
 * Writes the array form of `frame` and returns true, or writes nothing and returns false for a frame
 * that travels as a map.
 *
 * @example
 * ```ts
 * if (writeCompactFrame(writer, frame)) payload = writer.take();
 * ```
 */
export function writeCompactFrame(w: MsgpackWriter, frame: Frame): boolean {
  switch (frame.t) {
    case "command": {
      if (frame.command.body.kind !== "op") return false;
      // The tag and id, then the command's own fields spliced in: one flat array of 2 + 5 items.
      w.array(2 + OP_COMMAND_FIELDS);
      w.string(COMMAND_TAG);
      w.number(frame.id);
      return writeOpCommandItems(w, frame.command);
    }
    case "read":
      w.array(3);
      w.string(READ_TAG);
      w.number(frame.id);
      w.bytes(frame.query);
      return true;
    case "reply":
      if (!frame.reply.ok || !("result" in frame.reply)) return false;
      w.array(3);
      w.string(REPLY_TAG);
      w.number(frame.id);
      w.bytes(frame.reply.result);
      return true;
    default:
      return false;
  }
}

/**
 * A command frame in its array form, read field by field from its payload with every field checked as
 * the validator checks it (the op is a copy of its own); null for any other payload, which msgpackr and
 * the validator then read and judge.
 *
 * @example
 * ```ts
 * const frame = readCompactCommand(payload) ?? validateFrame(expandCompactFrame(unpack(payload)));
 * ```
 */
export function readCompactCommand(payload: Uint8Array): CommandFrame | null {
  // Most frames a follower reads are not commands: one byte tells, before any reader is made.
  if (payload[0] !== 0x90 + 2 + OP_COMMAND_FIELDS) return null;
  const r = new MsgpackReader(payload);
  if (r.arrayLength() !== 2 + OP_COMMAND_FIELDS || !r.fixstr(COMMAND_TAG)) return null;
  const id = r.natural();
  if (id === NOT_NATURAL) return null;
  const command = readOpCommandItems(r, true);
  return command !== null && r.atEnd() ? { t: "command", id, command } : null;
}

/**
 * The map form of a decoded array (unchecked: the validator checks it next). Throws
 * {@link BadFrameError} for an array that is no compact frame.
 */
export function expandCompactFrame(value: readonly unknown[]): unknown {
  const tag = value[0];
  if (tag === COMMAND_TAG && value.length === 2 + OP_COMMAND_FIELDS)
    return { t: "command", id: value[1], command: opCommandFromFields(value.slice(2)) };
  if (tag === READ_TAG && value.length === 3) return { t: "read", id: value[1], query: value[2] };
  if (tag === REPLY_TAG && value.length === 3)
    return { t: "reply", id: value[1], reply: { ok: true, result: value[2] } };
  throw new BadFrameError("", `an array of ${value.length} is not a compact frame (tag ${describeTag(tag)})`);
}

function describeTag(tag: unknown): string {
  return typeof tag === "string" ? JSON.stringify(tag.slice(0, 16)) : typeof tag;
}

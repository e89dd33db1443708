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
 * compactFrame({ t: "read", id: 7, query }); // ["q", 7, query]
 * expandCompactFrame(["q", 7, query]);       // { t: "read", id: 7, query }
 * ```
 *
 * @module
 */
import { OP_COMMAND_FIELDS, opCommandFields, opCommandFromFields } from "../encoding/batch-bytes.ts";
import type { Frame } from "./frames.ts";
import { BadFrameError } from "./validate.ts";

const COMMAND_TAG = "c";
const READ_TAG = "q";
const REPLY_TAG = "r";

/** The array form of `frame`, or null when it travels as a map. */
export function compactFrame(frame: Frame): unknown[] | null {
  switch (frame.t) {
    case "command": {
      const fields = opCommandFields(frame.command);
      return fields === null ? null : [COMMAND_TAG, frame.id, ...fields];
    }
    case "read":
      return [READ_TAG, frame.id, frame.query];
    case "reply":
      return frame.reply.ok && "result" in frame.reply ? [REPLY_TAG, frame.id, frame.reply.result] : null;
    default:
      return null;
  }
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

import type { Command, Reply } from "../core/command.ts";
import type { Member } from "../core/config.ts";
import type { Message } from "../core/messages.ts";
import type { NodeStatus } from "../core/node.ts";

/** The wire protocol's version; a peer or client speaking another one is refused at `hello`. */
export const PROTOCOL_VERSION = 4;

/**
 * Every frame on a concoord TCP connection: a 4-byte big-endian length, then one msgpack value of this
 * type. The first frame on a connection is `hello`; the acceptor answers `welcome` or `error` (and
 * closes). Afterwards peers exchange `peer` frames; clients send `command`, `read` and `status` and get
 * `reply`, `status-reply` and `error` back, matched by their `id`.
 *
 * @example
 * ```ts
 * const frame: Frame = { t: "command", id: 7, command };
 * ```
 */
export type Frame =
  | HelloFrame
  | WelcomeFrame
  | PeerFrame
  | CommandFrame
  | ReadFrame
  | ReplyFrame
  | StatusFrame
  | StatusReplyFrame
  | KeepaliveFrame
  | KeepaliveAckFrame
  | ErrorFrame;

/** Opens a connection. Peers name themselves and the cluster identity they were started with. */
export interface HelloFrame {
  readonly t: "hello";
  readonly v: number;
  readonly role: "peer" | "client";
  /** The sender's node id (peers only). */
  readonly from?: number;
  /** Hash of the hosted object's code and the initial membership: replicas of another cluster are refused. */
  readonly identity?: string;
}

/** The answer to `hello`: who this node is and how to reach every member (so clients can follow hints). */
export interface WelcomeFrame {
  readonly t: "welcome";
  readonly v: number;
  readonly nodeId: number;
  readonly leaderId: number | null;
  readonly members: readonly Member[];
  readonly identity: string;
  /** The hosted objects' public methods, and which of them only read. */
  readonly objects: readonly ObjectInfo[];
}

/** What a client needs to know about one hosted object. */
export interface ObjectInfo {
  readonly name: string;
  readonly methods: readonly string[];
  readonly readOnlyMethods: readonly string[];
}

/** A consensus message between nodes. */
export interface PeerFrame {
  readonly t: "peer";
  readonly m: Message;
}

/** A client command (goes through the log). */
export interface CommandFrame {
  readonly t: "command";
  readonly id: number;
  readonly command: Command;
}

/** A linearizable read (no log write). */
export interface ReadFrame {
  readonly t: "read";
  readonly id: number;
  readonly query: Uint8Array;
}

/** The outcome of a command or read. */
export interface ReplyFrame {
  readonly t: "reply";
  readonly id: number;
  readonly reply: Reply;
}

/** Asks a node for its status. */
export interface StatusFrame {
  readonly t: "status";
  readonly id: number;
}

/** A node's status as seen by itself. */
export interface StatusReplyFrame {
  readonly t: "status-reply";
  readonly id: number;
  readonly status: NodeStatus & {
    readonly address: string;
    readonly dataDir: string | null;
    readonly members: readonly Member[];
    /** sha256 of the application's snapshot bytes at `executed`: equal on replicas that applied the same slots. */
    readonly stateHash?: string;
  };
}

/** A client's sign of life for its session (its lease); the node answers `keepalive-ack`. */
export interface KeepaliveFrame {
  readonly t: "keepalive";
  readonly sessionId: number;
}

/**
 * The node is alive and read the keepalive. Only the leader records keepalives, so a client told of
 * another leader moves there: otherwise its lease would run out while it talks to a follower.
 */
export interface KeepaliveAckFrame {
  readonly t: "keepalive-ack";
  readonly leaderId: number | null;
}

/** A refusal: a malformed or unexpected frame (`id` when it can be matched to a request). */
export interface ErrorFrame {
  readonly t: "error";
  readonly id?: number;
  readonly code: FrameErrorCode;
  readonly message: string;
}

/** Why a frame was refused. */
export type FrameErrorCode =
  | "BadFrame"
  | "TooLarge"
  | "BadVersion"
  | "IdentityMismatch"
  | "UnknownPeer"
  | "NotReady";

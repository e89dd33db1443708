/**
 * The consensus core: a pure Multi-Paxos node, its messages and the records it asks hosts to persist.
 *
 * @example
 * ```ts
 * import { PaxosNode, makeConfig } from "concoord/core";
 * ```
 */
export { Acceptor } from "./acceptor.ts";
export { assert, InvariantError } from "./assert.ts";
export type { Ballot } from "./ballot.ts";
export { BALLOT_ZERO, ballotsEqual, compareBallots, formatBallot, maxBallot } from "./ballot.ts";
export type { Batch, Command, CommandBody, ErrorCode, Reply } from "./command.ts";
export { batchBytes, commandBytes } from "./command.ts";
export type { ConfChange, Config, Member } from "./config.ts";
export { acceptorIds, applyConfChange, formatConfig, makeConfig, quorumSize, replicaIds } from "./config.ts";
export type { DurableState, PersistRecord } from "./durable.ts";
export { applyRecord, emptyDurableState, foldRecords } from "./durable.ts";
export type { Limits } from "./limits.ts";
export { DEFAULT_LIMITS, resolveLimits } from "./limits.ts";
export type { Envelope, Message, PValue, SlotValue } from "./messages.ts";
export type { NodeOptions, NodeStatus, Role } from "./node.ts";
export { PaxosNode } from "./node.ts";
export type { PlantedBug, PlantedBugs } from "./planted-bugs.ts";
export { NO_BUGS, PLANTED_BUGS, parsePlantedBug } from "./planted-bugs.ts";
export type { AppliedSlot, ClientReplyEffect, Ready } from "./ready.ts";
export type { CommandOutcome } from "./replicated-state.ts";
export { ReplicatedState } from "./replicated-state.ts";
export type { ConfigEpoch, SessionState, Snapshot } from "./snapshot.ts";
export type { ApplyContext, StateMachine } from "./state-machine.ts";

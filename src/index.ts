/**
 * concoord: replicated coordination objects for Node.js and TypeScript.
 *
 * This entry point exports the consensus core and the linearizability checker; the networked client
 * joins it when nodes speak TCP.
 *
 * @example
 * ```ts
 * import { PaxosNode, checkHistory, counterModel } from "concoord";
 * ```
 */
export * from "./check/index.ts";
export * from "./core/index.ts";

/**
 * concoord: replicated coordination objects for Node.js and TypeScript.
 *
 * @example
 * ```ts
 * import { connect } from "concoord";
 * const client = await connect("127.0.0.1:14000,127.0.0.1:14001,127.0.0.1:14002", { timeoutMs: 5000 });
 * const counter = client.object<Counter>();
 * await counter.increment();
 * await client.close();
 * ```
 */
export type { ConnectOptions, Remote } from "./client/client.ts";
export { Client, connect } from "./client/client.ts";
export { ConnectionError, RemoteError, SessionExpiredError, TimeoutError } from "./client/errors.ts";

import { connect as tcpConnect } from "node:net";
import { parseAddress } from "../../host/address.ts";
import { FrameConnection } from "../../net/connection.ts";
import type { StatusReplyFrame } from "../../net/frames.ts";
import { PROTOCOL_VERSION } from "../../net/frames.ts";
import { CliError } from "../cli-error.ts";

/** A node's status as `concoord status` prints it. */
export type NodeStatusReport = StatusReplyFrame["status"];

/**
 * Asks one node for its status (role, ballot, leader, executed slot, members, data directory).
 *
 * @example
 * ```ts
 * const status = await fetchStatus("127.0.0.1:14000");
 * ```
 */
export function fetchStatus(target: string, timeoutMs = 2000): Promise<NodeStatusReport> {
  const address = parseAddress(target);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: address.host, port: address.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new CliError(`${target} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const conn = new FrameConnection(socket, {
      onFrame: (frame) => {
        if (frame.t === "welcome") conn.send({ t: "status", id: 1 });
        else if (frame.t === "status-reply") {
          clearTimeout(timer);
          conn.close();
          resolve(frame.status);
        } else if (frame.t === "error") {
          clearTimeout(timer);
          conn.close();
          reject(new CliError(`${target} refused: ${frame.message}`));
        }
      },
      onClose: () => {},
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(new CliError(`cannot reach ${target}: ${error.message}`));
    });
    socket.on("connect", () => conn.send({ t: "hello", v: PROTOCOL_VERSION, role: "client" }));
  });
}

/** `concoord status -b HOST:PORT [--pretty]`. */
export async function runStatus(options: { bootstrap: string; pretty?: boolean }): Promise<number> {
  let status: NodeStatusReport;
  try {
    status = await fetchStatus(options.bootstrap);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError((error as Error).message);
  }
  if (!options.pretty) {
    process.stdout.write(`${JSON.stringify(status)}\n`);
    return 0;
  }
  const rows: [string, string][] = [
    ["node", `${status.id} at ${status.address}`],
    ["role", status.role],
    ["ballot", status.ballot ?? "-"],
    ["promised", status.promised],
    ["leader", status.leaderId === null ? "unknown" : String(status.leaderId)],
    ["executed", String(status.executed)],
    ["snapshot", `${status.snapshotSlot} (${status.snapshotsInstalled} installed from peers)`],
    [
      "members",
      status.members.map((m) => `${m.id}=${m.address}${m.replica ? "" : " (acceptor)"}`).join(", "),
    ],
    ["data dir", status.dataDir ?? "(in memory)"],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  return 0;
}

import type { Logger } from "pino";
import { pino } from "pino";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";
import { clusterIdentity, initialMembers } from "../../src/host/membership.ts";
import { NodeHost } from "../../src/host/node-host.ts";
import type { ConnectionLimits } from "../../src/net/connection.ts";
import { loadObjectFile, ObjectMachine } from "../../src/object/index.ts";
import type { NodeStorage } from "../../src/storage/index.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";

/**
 * A one-member cluster on a free loopback port hosting the class `className` of `file` under its own
 * name, for tests of one node's behaviour.
 *
 * @example
 * ```ts
 * const { host, address } = await startOneNode({ file: "src/objects/counter.ts", className: "Counter" });
 * ```
 */
export async function startOneNode(options: {
  file: string;
  className: string;
  storage?: NodeStorage;
  logger?: Logger;
  connection?: ConnectionLimits;
}): Promise<{ host: NodeHost; address: string }> {
  const [port] = await freeLoopbackPorts(1);
  const members = initialMembers({ replicas: [{ host: "127.0.0.1", port: port! }], acceptors: [] });
  const loaded = await loadObjectFile({ file: options.file, className: options.className });
  const machine = new ObjectMachine(new Map([[options.className, loaded]]));
  const host = await NodeHost.start({
    id: members[0]!.id,
    members,
    listen: { host: "127.0.0.1", port: port! },
    machine,
    objects: machine.info(),
    storage: options.storage ?? new MemoryStorage(),
    identity: clusterIdentity(members, null),
    logger: options.logger ?? pino({ level: "silent" }),
    ...(options.connection ? { connection: options.connection } : {}),
  });
  return { host, address: `127.0.0.1:${port}` };
}

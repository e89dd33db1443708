import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fetchStatus } from "../../src/cli/commands/status.ts";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";
import type { Client } from "../../src/client/client.ts";
import { connect } from "../../src/client/client.ts";
import type { Counter } from "../../src/objects/counter.ts";
import type { ReplicatedMap } from "../../src/objects/map.ts";
import { ServerProcess } from "../processes.ts";
import { MemberProcesses, ThreeMemberSystem } from "./members.ts";
import type { BenchClient, BenchSystem } from "./system.ts";

const CLI = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/**
 * Three durable concoord replicas (`--peers`, data dirs on disk) hosting the library's Map and Counter.
 *
 * @example
 * ```ts
 * const system = new ConcoordSystem({ dataRoot: "/tmp/bench" }); await system.start();
 * ```
 */
export class ConcoordSystem extends ThreeMemberSystem implements BenchSystem {
  readonly name = "concoord" as const;
  readonly #dataRoot: string;
  #ports: number[] = [];
  /** The member that answered as the leader when the slots were last counted. */
  #lastLeader: number | null = null;
  protected readonly members: MemberProcesses;

  constructor(options: { dataRoot: string }) {
    super();
    this.#dataRoot = join(options.dataRoot, "concoord");
    this.members = new MemberProcesses({ spawn: (i) => this.#spawn(i), clientPort: (i) => this.#ports[i]! });
  }

  get #peers(): string {
    return this.#ports.map((p) => `127.0.0.1:${p}`).join(",");
  }

  async start(): Promise<void> {
    this.#ports = await freeLoopbackPorts(3);
    await this.startServing();
  }

  #spawn(i: number): ServerProcess {
    const dir = join(this.#dataRoot, String(i));
    mkdirSync(dir, { recursive: true });
    const args = [
      "--import",
      "tsx",
      CLI,
      "replica",
      "-o",
      "Map",
      "-o",
      "Counter",
      "-p",
      String(this.#ports[i]),
    ];
    return new ServerProcess({
      name: `concoord-${i + 1}`,
      command: process.execPath,
      args: [...args, "--peers", this.#peers, "--data-dir", dir],
    });
  }

  async connect(): Promise<BenchClient> {
    const client: Client = await connect(this.#peers, { timeoutMs: 10_000 });
    const map = client.object<ReplicatedMap>("Map");
    const counter = client.object<Counter>("Counter");
    return {
      put: async (key, value) => {
        await map.set(key, value);
      },
      increment: async () => {
        await counter.increment();
      },
      get: (key) => map.get(key),
      close: () => client.close(),
    };
  }

  async slotsExecuted(): Promise<number> {
    // Read at each edge of a window while writes go on: every round trip spent finding the leader lets
    // writes into the window whose slots the count misses, so the leader seen last is asked first.
    if (this.#lastLeader !== null) {
      const status = await this.#status(this.#lastLeader).catch(() => null);
      if (status?.role === "leader") return status.executed;
    }
    this.#lastLeader = await this.leaderIndex();
    return (await this.#status(this.#lastLeader)).executed;
  }

  /** The status of member `index`, asked with a 1 s timeout. */
  #status(index: number): ReturnType<typeof fetchStatus> {
    return fetchStatus(`127.0.0.1:${this.#ports[index]!}`, 1000);
  }

  async leaderIndex(): Promise<number> {
    for (let asked = 0; asked < this.#ports.length; asked++) {
      try {
        const status = await this.#status(asked);
        const leader = status.members.find((m) => m.id === status.leaderId)?.address;
        const index = this.#ports.findIndex((p) => `127.0.0.1:${p}` === leader);
        if (index >= 0) return index;
      } catch {
        // Ask the next member.
      }
    }
    throw new Error("no concoord member names a leader");
  }
}

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";
import { ServerProcess } from "../processes.ts";
import { MemberProcesses, ThreeMemberSystem } from "./members.ts";
import type { BenchClient, BenchSystem } from "./system.ts";

/** A compare-and-swap increment gives up after this many lost races (it would mean livelock). */
const CAS_ATTEMPTS_MAX = 10_000;

/** Where Debian's etcd-server puts the binary. */
export const ETCD_BINARY = "/usr/bin/etcd";

/**
 * Three etcd 3.4 members on loopback, each with its own data dir, fsync on (etcd's default).
 *
 * @example
 * ```ts
 * if (EtcdSystem.available()) await new EtcdSystem({ dataRoot }).start();
 * ```
 */
export class EtcdSystem extends ThreeMemberSystem implements BenchSystem {
  readonly name = "etcd" as const;
  readonly #dataRoot: string;
  #clientPorts: number[] = [];
  #peerPorts: number[] = [];
  protected readonly members: MemberProcesses;

  constructor(options: { dataRoot: string }) {
    super();
    this.#dataRoot = join(options.dataRoot, "etcd");
    this.members = new MemberProcesses({
      spawn: (i) => this.#spawn(i),
      clientPort: (i) => this.#clientPorts[i]!,
    });
  }

  static available(): boolean {
    return existsSync(ETCD_BINARY);
  }

  get #endpoints(): string[] {
    return this.#clientPorts.map((p) => `http://127.0.0.1:${p}`);
  }

  async start(): Promise<void> {
    const ports = await freeLoopbackPorts(6);
    this.#clientPorts = ports.slice(0, 3);
    this.#peerPorts = ports.slice(3);
    await this.startServing();
  }

  #spawn(i: number): ServerProcess {
    const dir = join(this.#dataRoot, String(i));
    mkdirSync(this.#dataRoot, { recursive: true });
    const cluster = this.#peerPorts.map((p, j) => `e${j}=http://127.0.0.1:${p}`).join(",");
    return new ServerProcess({
      name: `etcd-${i + 1}`,
      command: ETCD_BINARY,
      args: [
        `--name=e${i}`,
        `--data-dir=${dir}`,
        `--listen-client-urls=http://127.0.0.1:${this.#clientPorts[i]}`,
        `--advertise-client-urls=http://127.0.0.1:${this.#clientPorts[i]}`,
        `--listen-peer-urls=http://127.0.0.1:${this.#peerPorts[i]}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${this.#peerPorts[i]}`,
        `--initial-cluster=${cluster}`,
        "--initial-cluster-state=new",
        "--initial-cluster-token=concoord-bench",
        "--logger=zap",
        "--log-level=error",
      ],
    });
  }

  async connect(): Promise<BenchClient> {
    const client = new Etcd3({ hosts: this.#endpoints, dialTimeout: 5000 });
    return {
      put: async (key, value) => {
        await client.put(key).value(value);
      },
      increment: async () => {
        for (let attempt = 0; attempt < CAS_ATTEMPTS_MAX; attempt++) {
          const response = await client.get("counter").exec();
          const kv = response.kvs[0];
          const value = kv ? Number(kv.value.toString()) : 0;
          const revision = kv ? kv.mod_revision : "0";
          const txn = await client
            .if("counter", "Mod", "==", revision)
            .then(client.put("counter").value(String(value + 1)))
            .commit();
          if (txn.succeeded) return;
        }
        throw new Error(`increment lost ${CAS_ATTEMPTS_MAX} races in a row`);
      },
      get: (key) => client.get(key).string(),
      close: async () => client.close(),
    };
  }

  async leaderIndex(): Promise<number> {
    for (const endpoint of this.#endpoints) {
      const one = new Etcd3({ hosts: [endpoint], dialTimeout: 1000 });
      try {
        const status = await one.maintenance.status();
        if (status.leader === status.header.member_id) return this.#endpoints.indexOf(endpoint);
      } catch {
        // Ask the next member.
      } finally {
        one.close();
      }
    }
    throw new Error("no etcd member says it leads");
  }
}

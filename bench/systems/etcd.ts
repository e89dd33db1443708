import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { freePorts, ServerProcess, waitForPort } from "../processes.ts";
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
export class EtcdSystem implements BenchSystem {
  readonly name = "etcd" as const;
  readonly #dataRoot: string;
  #clientPorts: number[] = [];
  #peerPorts: number[] = [];
  readonly #members: (ServerProcess | null)[] = [null, null, null];

  constructor(options: { dataRoot: string }) {
    this.#dataRoot = join(options.dataRoot, "etcd");
  }

  static available(): boolean {
    return existsSync(ETCD_BINARY);
  }

  get #endpoints(): string[] {
    return this.#clientPorts.map((p) => `http://127.0.0.1:${p}`);
  }

  async start(): Promise<void> {
    const ports = await freePorts(6);
    this.#clientPorts = ports.slice(0, 3);
    this.#peerPorts = ports.slice(3);
    for (let i = 0; i < 3; i++) this.#spawn(i);
    for (let i = 0; i < 3; i++)
      await waitForPort(this.#clientPorts[i]!, undefined, () => !this.#members[i]!.exited);
    const client = await this.connect();
    await client.put("warm", "up");
    await client.close();
  }

  #spawn(i: number): void {
    const dir = join(this.#dataRoot, String(i));
    mkdirSync(this.#dataRoot, { recursive: true });
    const cluster = this.#peerPorts.map((p, j) => `e${j}=http://127.0.0.1:${p}`).join(",");
    this.#members[i] = new ServerProcess({
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

  pids(): number[] {
    return this.#members.flatMap((m) => (m && !m.exited ? [m.pid] : []));
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

  async kill(index: number): Promise<void> {
    await this.#members[index]?.kill();
  }

  async restart(index: number): Promise<void> {
    this.#spawn(index);
    await waitForPort(this.#clientPorts[index]!, undefined, () => !this.#members[index]!.exited);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#members.map((m) => m?.stop()));
  }
}

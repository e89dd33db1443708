import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import zookeeper from "node-zookeeper-client";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";
import { ServerProcess } from "../processes.ts";
import { MemberProcesses, ThreeMemberSystem } from "./members.ts";
import type { BenchClient, BenchSystem } from "./system.ts";

/** Debian's zookeeper package: the server jar (its manifest lists the libraries) and Java. */
export const ZOOKEEPER_JAR = "/usr/share/java/zookeeper.jar";
const JAVA = "/usr/bin/java";
/** A versioned-write increment gives up after this many lost races. */
const CAS_ATTEMPTS_MAX = 10_000;
/** znodes hold the puts' keys under one parent, created once. */
const KEYS_PATH = "/bench";
const COUNTER_PATH = "/counter";

/**
 * A three-server ZooKeeper 3.8 ensemble on loopback, each server with its own data dir; ZooKeeper
 * fsyncs its transaction log by default (forceSync=yes).
 *
 * @example
 * ```ts
 * if (ZookeeperSystem.available()) await new ZookeeperSystem({ dataRoot }).start();
 * ```
 */
export class ZookeeperSystem extends ThreeMemberSystem implements BenchSystem {
  readonly name = "zookeeper" as const;
  readonly #dataRoot: string;
  #clientPorts: number[] = [];
  #quorumPorts: number[] = [];
  protected readonly members: MemberProcesses;

  constructor(options: { dataRoot: string }) {
    super();
    this.#dataRoot = join(options.dataRoot, "zookeeper");
    this.members = new MemberProcesses({
      spawn: (i) => this.#spawn(i),
      clientPort: (i) => this.#clientPorts[i]!,
    });
  }

  static available(): boolean {
    return existsSync(ZOOKEEPER_JAR) && existsSync(JAVA);
  }

  async start(): Promise<void> {
    const ports = await freeLoopbackPorts(9);
    this.#clientPorts = ports.slice(0, 3);
    this.#quorumPorts = ports.slice(3);
    for (let i = 0; i < 3; i++) this.#configure(i);
    await this.members.startAll();
    const client = await this.#session();
    await create(client, KEYS_PATH);
    await create(client, COUNTER_PATH, "0");
    client.close();
  }

  #configure(i: number): void {
    const dir = join(this.#dataRoot, String(i));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "myid"), `${i + 1}\n`);
    const servers = [0, 1, 2]
      .map((j) => `server.${j + 1}=127.0.0.1:${this.#quorumPorts[2 * j]}:${this.#quorumPorts[2 * j + 1]}`)
      .join("\n");
    writeFileSync(
      join(dir, "zoo.cfg"),
      `tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=${dir}\nclientPort=${this.#clientPorts[i]}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nmaxClientCnxns=0\n4lw.commands.whitelist=srvr\n${servers}\n`,
    );
    writeFileSync(
      join(dir, "log4j.properties"),
      "log4j.rootLogger=ERROR, CONSOLE\nlog4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\nlog4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n",
    );
  }

  #spawn(i: number): ServerProcess {
    const dir = join(this.#dataRoot, String(i));
    return new ServerProcess({
      name: `zookeeper-${i + 1}`,
      command: JAVA,
      args: [
        "-Xmx512m",
        `-Dlog4j.configuration=file:${join(dir, "log4j.properties")}`,
        `-Dzookeeper.log.dir=${dir}`,
        "-cp",
        `${dir}:${ZOOKEEPER_JAR}`,
        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        join(dir, "zoo.cfg"),
      ],
    });
  }

  #session(): Promise<zookeeper.Client> {
    const hosts = this.#clientPorts.map((p) => `127.0.0.1:${p}`).join(",");
    const client = zookeeper.createClient(hosts, { sessionTimeout: 10_000, retries: 3 });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no ZooKeeper session within 30 s")), 30_000);
      client.once("connected", () => {
        clearTimeout(timer);
        resolve(client);
      });
      client.connect();
    });
  }

  async connect(): Promise<BenchClient> {
    const client = await this.#session();
    return {
      put: (key, value) =>
        new Promise((resolve, reject) => {
          const path = `${KEYS_PATH}/${key}`;
          client.setData(path, Buffer.from(value), -1, (error) => {
            if (!error) return resolve();
            if (codeOf(error) !== zookeeper.Exception.NO_NODE) return reject(error);
            // A key written for the first time: create it (another writer may win the race).
            client.create(path, Buffer.from(value), (e) =>
              e && codeOf(e) !== zookeeper.Exception.NODE_EXISTS ? reject(e) : resolve(),
            );
          });
        }),
      increment: async () => {
        for (let attempt = 0; attempt < CAS_ATTEMPTS_MAX; attempt++) {
          const { data, version } = await new Promise<{ data: Buffer; version: number }>((resolve, reject) =>
            client.getData(COUNTER_PATH, (e, d, stat) =>
              e ? reject(e) : resolve({ data: d, version: stat.version }),
            ),
          );
          const next = Buffer.from(String(Number(data.toString()) + 1));
          const won = await new Promise<boolean>((resolve, reject) =>
            client.setData(COUNTER_PATH, next, version, (e) => {
              if (!e) resolve(true);
              else if (codeOf(e) === zookeeper.Exception.BAD_VERSION) resolve(false);
              else reject(e);
            }),
          );
          if (won) return;
        }
        throw new Error(`increment lost ${CAS_ATTEMPTS_MAX} races in a row`);
      },
      get: (key) =>
        new Promise((resolve, reject) =>
          client.getData(`${KEYS_PATH}/${key}`, (e, d) => (e ? reject(e) : resolve(d?.toString()))),
        ),
      close: async () => client.close(),
    };
  }

  async leaderIndex(): Promise<number> {
    throw new Error("the failover workload compares concoord with etcd only");
  }
}

function create(client: zookeeper.Client, path: string, data = ""): Promise<void> {
  return new Promise((resolve, reject) =>
    client.create(path, Buffer.from(data), (e) =>
      e && codeOf(e) !== zookeeper.Exception.NODE_EXISTS ? reject(e) : resolve(),
    ),
  );
}

/** The ZooKeeper error code of a callback's error (plain Errors, e.g. a lost connection, have none). */
function codeOf(error: Error | zookeeper.Exception): number | null {
  return "getCode" in error ? error.getCode() : null;
}

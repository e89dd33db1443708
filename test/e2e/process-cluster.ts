import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const CLI = join(ROOT, "src/cli/main.ts");
export const COUNTER = join(ROOT, "src/objects/counter.ts");

/** Runs the `concoord` CLI from sources as a child process. */
export function spawnCli(args: readonly string[], options: { cwd?: string } = {}): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function runCli(args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}) {
  const child = spawnCli(args, options);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** How one node of a test cluster runs. */
export interface NodeSpec {
  readonly role: "replica" | "acceptor";
  readonly file: string;
  readonly className: string;
  readonly extra: readonly string[];
}

/**
 * Real node processes on loopback, each with its own data directory under one temp dir. Tests end them
 * by pid (`stop` sends SIGTERM, then SIGKILL), never by name.
 */
export class ProcessCluster {
  readonly ports: number[];
  readonly dataRoot: string;
  readonly #children = new Map<number, ChildProcess>();
  readonly #specs: NodeSpec[];
  readonly logs = new Map<number, string[]>();

  private constructor(ports: number[], specs: NodeSpec[]) {
    this.ports = ports;
    this.#specs = specs;
    this.dataRoot = mkdtempSync(join(tmpdir(), "concoord-e2e-"));
  }

  /**
   * Starts `replicas` replicas of the object (the tutorial Counter by default) and `acceptors`
   * acceptor-only nodes; `override` changes one node's spec (another object file, extra flags).
   */
  static async start(options: {
    replicas: number;
    acceptors?: number;
    file?: string;
    className?: string;
    override?: Record<number, Partial<NodeSpec>>;
    /** `--object NAME=SOURCE` flags for every replica, instead of -f/-c. */
    objects?: readonly string[];
  }): Promise<ProcessCluster> {
    const total = options.replicas + (options.acceptors ?? 0);
    const specs: NodeSpec[] = Array.from({ length: total }, (_, i) => ({
      role: i < options.replicas ? "replica" : "acceptor",
      file: options.objects ? "" : (options.file ?? COUNTER),
      className: options.className ?? "Counter",
      extra: options.objects && i < options.replicas ? options.objects.flatMap((o) => ["--object", o]) : [],
      ...(options.override?.[i] ?? {}),
    }));
    const cluster = new ProcessCluster(await freeLoopbackPorts(total), specs);
    await Promise.all(cluster.ports.map((_, i) => cluster.startNode(i)));
    return cluster;
  }

  /** The replicas' addresses, as clients use them. */
  get connectString(): string {
    return this.#addresses("replica");
  }

  #addresses(role: "replica" | "acceptor"): string {
    return this.ports
      .filter((_, i) => this.#specs[i]!.role === role)
      .map((p) => `127.0.0.1:${p}`)
      .join(",");
  }

  address(i: number): string {
    return `127.0.0.1:${this.ports[i]}`;
  }

  pid(i: number): number | undefined {
    return this.#children.get(i)?.pid;
  }

  /** True while node `i`'s process is alive. */
  running(i: number): boolean {
    const child = this.#children.get(i);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Restarts every node that is not running. */
  async restartStopped(): Promise<void> {
    await Promise.all(this.ports.map((_, i) => (this.running(i) ? undefined : this.startNode(i))));
  }

  /** Starts (or restarts) node `i` from its data directory and waits until it listens. */
  async startNode(i: number): Promise<void> {
    const port = this.ports[i]!;
    const spec = this.#specs[i]!;
    const acceptors = this.#addresses("acceptor");
    const child = spawnCli([
      spec.role,
      ...(spec.role === "replica" && spec.file ? ["-f", spec.file, "-c", spec.className] : []),
      "-p",
      String(port),
      "--peers",
      this.connectString,
      ...(acceptors ? ["--acceptors", acceptors] : []),
      "--data-dir",
      join(this.dataRoot, String(port)),
      ...spec.extra,
    ]);
    this.#children.set(i, child);
    const log: string[] = [];
    this.logs.set(i, log);
    createInterface({ input: child.stderr! }).on("line", (line) => {
      if (log.length < 5000) log.push(line);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${i} did not start: ${log.join("\n")}`)), 30_000);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.includes("listening on")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`node ${i} exited with ${code}: ${log.join("\n")}`));
      });
    });
  }

  /** Kills node `i` with SIGKILL (no chance to flush anything) and waits for it to be gone. */
  async kill(i: number): Promise<void> {
    const child = this.#children.get(i);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGKILL");
    await gone;
  }

  /** Stops every node by pid and removes the data directories. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.#children.values()].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await gone;
        clearTimeout(timer);
      }),
    );
    rmSync(this.dataRoot, { recursive: true, force: true });
  }
}

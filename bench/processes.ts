import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";

/** Lines of a server's output kept for the message when it fails to start. */
const OUTPUT_LINES_MAX = 40;
/** How long a server may take to accept connections. */
export const START_TIMEOUT_MS = 60_000;

/**
 * A server process the harness started, ended by its pid and only by it.
 *
 * @example
 * ```ts
 * const p = startProcess({ name: "etcd-1", command: "etcd", args: [...] });
 * await waitForPort(2379); await p.stop();
 * ```
 */
export class ServerProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #output: string[] = [];
  #exited = false;

  constructor(options: { name: string; command: string; args: readonly string[]; env?: NodeJS.ProcessEnv }) {
    this.name = options.name;
    this.#child = spawn(options.command, options.args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    const keep = (d: Buffer): void => {
      this.#output.push(...d.toString().split("\n").filter(Boolean));
      if (this.#output.length > OUTPUT_LINES_MAX)
        this.#output.splice(0, this.#output.length - OUTPUT_LINES_MAX);
    };
    this.#child.stdout!.on("data", keep);
    this.#child.stderr!.on("data", keep);
    this.#child.once("exit", () => {
      this.#exited = true;
    });
    this.#child.once("error", (e) => {
      this.#output.push(`spawn failed: ${e.message}`);
      this.#exited = true;
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get exited(): boolean {
    return this.#exited;
  }

  output(): string {
    return this.#output.join("\n");
  }

  /** SIGKILL, as a crash: what the failover workload does to a leader. */
  async kill(): Promise<void> {
    await this.#signal("SIGKILL", 5000);
  }

  /** SIGTERM, then SIGKILL after a grace period. */
  async stop(): Promise<void> {
    if (!(await this.#signal("SIGTERM", 5000))) await this.#signal("SIGKILL", 5000);
  }

  async #signal(signal: NodeJS.Signals, waitMs: number): Promise<boolean> {
    if (this.#exited) return true;
    const gone = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), waitMs);
      this.#child.once("exit", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    this.#child.kill(signal);
    return await gone;
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; rejects past `timeoutMs`. */
export async function waitForPort(
  port: number,
  timeoutMs = START_TIMEOUT_MS,
  alive?: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (alive && !alive()) throw new Error(`the process exited before port ${port} opened`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** Kernel clock ticks per second for /proc times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

/** CPU milliseconds (user + system) the process has used, from /proc; 0 once it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** CPU milliseconds every process on the machine has used (all cores), from /proc/stat. */
export function machineCpuMs(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number) as number[];
  return (
    (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) /
    TICKS_PER_S
  );
}

import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { CliError } from "../cli-error.ts";
import { canBind } from "../ports.ts";

/** Options of `concoord dev`. */
export interface DevOptions {
  readonly replicas?: string;
  readonly file?: string;
  readonly className?: string;
  readonly basePort?: string;
  readonly addr?: string;
  readonly dataDir?: string;
  readonly verbose?: boolean;
}

/** How long a replica may take to start, and to stop before it is killed. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5000;

const SOURCE_EXTENSION = import.meta.url.endsWith(".ts") ? "ts" : "js";

/**
 * Starts a local durable cluster of replica processes (the tutorial's Counter unless `-f/-c` name
 * another object), prints how to reach it, and stops every child cleanly on Ctrl-C.
 *
 * @example
 * ```sh
 * concoord dev --replicas 3
 * ```
 */
export async function runDev(options: DevOptions): Promise<number> {
  const count = Number(options.replicas ?? "3");
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new CliError("--replicas must be 1-9");
  const host = options.addr ?? "127.0.0.1";
  const basePort = Number(options.basePort ?? "14000");
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + count > 65535)
    throw new CliError("--base-port is not a port");
  const file = options.file
    ? resolve(options.file)
    : fileURLToPath(new URL(`../../objects/counter.${SOURCE_EXTENSION}`, import.meta.url));
  const className = options.className ?? (options.file ? undefined : "Counter");
  if (!className) throw new CliError("-f needs -c CLASS");
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);
  const ports = Array.from({ length: count }, (_, i) => basePort + i);
  for (const port of ports) {
    if (!(await canBind(host, port)))
      throw new CliError(`port ${port} on ${host} is in use; pick another range with --base-port`);
  }
  const peers = ports.map((p) => `${host}:${p}`).join(",");
  const dataRoot = resolve(options.dataDir ?? "concoord-data");
  const main = fileURLToPath(new URL(`../main.${SOURCE_EXTENSION}`, import.meta.url));
  const children: ChildProcess[] = [];
  let stopping = false;

  const stopAll = async (): Promise<void> => {
    stopping = true;
    await Promise.all(children.map((child) => stopChild(child)));
  };

  try {
    await Promise.all(
      ports.map(async (port) => {
        const args = [
          ...childExecArgv(),
          main,
          "replica",
          "-f",
          file,
          "-c",
          className,
          "-a",
          host,
          "-p",
          String(port),
        ];
        args.push("--peers", peers, "--data-dir", resolve(dataRoot, `${host}-${port}`));
        const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
        children.push(child);
        forwardLogs(child, port, options.verbose ?? false);
        await waitForListening(child, port);
      }),
    );
  } catch (error) {
    await stopAll();
    throw error;
  }

  process.stdout.write(
    [
      `concoord dev: ${count} replicas of ${className} (${file}), data in ${dataRoot}`,
      `  connect string: ${peers}`,
      `  try:  npx concoord call -b ${peers} ${className === "Counter" ? "increment" : "<method> [args...]"}`,
      `  code: const client = await connect("${peers}"); await client.object<${className}>()${className === "Counter" ? ".increment()" : ".method()"};`,
      "Ctrl-C stops the cluster.",
      "",
    ].join("\n"),
  );

  return await new Promise<number>((done) => {
    const shutdown = (): void => {
      if (stopping) return;
      process.stdout.write("concoord dev: stopping\n");
      void stopAll().then(() => done(0));
    };
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
    for (const child of children) {
      child.once("exit", (code, signal) => {
        if (stopping) return;
        process.stderr.write(
          `concoord dev: a replica exited (${signal ?? `code ${code}`}); stopping the others\n`,
        );
        void stopAll().then(() => done(1));
      });
    }
  });
}

/**
 * The Node flags for the replica processes: the same as ours, with a TypeScript loader given by absolute
 * URL so that children started from any working directory find it.
 */
function childExecArgv(): string[] {
  return process.execArgv.map((arg, i, all) =>
    all[i - 1] === "--import" && arg === "tsx" ? import.meta.resolve("tsx") : arg,
  );
}

function waitForListening(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(
      () => reject(new CliError(`replica on port ${port} did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (line.includes("listening on")) {
        clearTimeout(timer);
        resolveStart();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new CliError(`replica on port ${port} exited with code ${code} before it was ready`));
    });
  });
}

/** Replica logs are JSON; dev shows warnings and errors (everything with --verbose), prefixed by port. */
function forwardLogs(child: ChildProcess, port: number, verbose: boolean): void {
  const lines = createInterface({ input: child.stderr! });
  lines.on("line", (line) => {
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (verbose || level === undefined || Number(level) >= 40) process.stderr.write(`[${port}] ${line}\n`);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { COUNTER, spawnCli } from "./process-cluster.ts";

/** Replica processes started by hand: the first founds the cluster, the others join it with -b. */
export class GrowingCluster {
  readonly dataRoot = mkdtempSync(join(tmpdir(), "concoord-members-"));
  readonly children = new Map<number, ChildProcess>();

  async start(
    port: number,
    join?: string,
    file = COUNTER,
    extra: readonly string[] = [],
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const args = [
      "replica",
      "-f",
      file,
      "-c",
      "Counter",
      "-p",
      String(port),
      "--data-dir",
      `${this.dataRoot}/${port}`,
      ...extra,
    ];
    const child = spawnCli(join ? [...args, "-b", join] : args);
    this.children.set(port, child);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      if (stderr.length < 100_000) stderr += d.toString();
    });
    return await new Promise((resolve) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.includes("listening on")) resolve({ code: null, stdout: line, stderr });
      });
      child.once("exit", (code) => resolve({ code, stdout: "", stderr }));
    });
  }

  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGKILL");
    await gone;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.children.keys()].map((p) => this.kill(p)));
    rmSync(this.dataRoot, { recursive: true, force: true });
  }
}

import type { ServerProcess } from "../processes.ts";
import { waitForPort } from "../processes.ts";
import type { BenchClient } from "./system.ts";

/**
 * The three server processes of one system: started, killed and restarted by index, each waited for on
 * its client port, and stopped together. The system says how to start member `i`.
 *
 * @example
 * ```ts
 * const members = new MemberProcesses({ spawn: (i) => new ServerProcess({...}), clientPort: (i) => ports[i] });
 * await members.startAll(); await members.kill(0); await members.restart(0);
 * ```
 */
export class MemberProcesses {
  readonly #spawn: (index: number) => ServerProcess;
  readonly #clientPort: (index: number) => number;
  readonly #processes: (ServerProcess | null)[] = [null, null, null];

  constructor(options: { spawn: (index: number) => ServerProcess; clientPort: (index: number) => number }) {
    this.#spawn = options.spawn;
    this.#clientPort = options.clientPort;
  }

  async startAll(): Promise<void> {
    for (let i = 0; i < this.#processes.length; i++) this.#processes[i] = this.#spawn(i);
    for (let i = 0; i < this.#processes.length; i++) await this.#waitFor(i);
  }

  pids(): number[] {
    return this.#processes.flatMap((p) => (p && !p.exited ? [p.pid] : []));
  }

  /** kill -9, as a crash. */
  async kill(index: number): Promise<void> {
    await this.#processes[index]?.kill();
  }

  /** Starts a killed member again on its data dir. */
  async restart(index: number): Promise<void> {
    this.#processes[index] = this.#spawn(index);
    await this.#waitFor(index);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#processes.map((p) => p?.stop()));
  }

  async #waitFor(index: number): Promise<void> {
    const process = this.#processes[index]!;
    try {
      await waitForPort(this.#clientPort(index), undefined, () => !process.exited);
    } catch (error) {
      throw new Error(`${process.name}: ${(error as Error).message}\n${process.output()}`);
    }
  }
}

/**
 * What every benchmarked system does with its members the same way: pids, kill -9, restart, stop.
 *
 * @example
 * ```ts
 * class EtcdSystem extends ThreeMemberSystem { protected readonly members = new MemberProcesses({...}); }
 * ```
 */
export abstract class ThreeMemberSystem {
  protected abstract readonly members: MemberProcesses;

  abstract connect(): Promise<BenchClient>;

  /** Starts the members and proves the cluster serves: one write through it (a leader was elected). */
  protected async startServing(): Promise<void> {
    await this.members.startAll();
    const client = await this.connect();
    await client.put("warm", "up");
    await client.close();
  }

  pids(): number[] {
    return this.members.pids();
  }

  kill(index: number): Promise<void> {
    return this.members.kill(index);
  }

  restart(index: number): Promise<void> {
    return this.members.restart(index);
  }

  stop(): Promise<void> {
    return this.members.stop();
  }
}

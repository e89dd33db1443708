import type { CheckResult } from "../check/index.ts";
import { checkHistory, counterModel, queueModel, registerModel } from "../check/index.ts";
import { InvariantError } from "../core/assert.ts";
import type { Batch } from "../core/command.ts";
import type { Member } from "../core/config.ts";
import { makeConfig } from "../core/config.ts";
import type { Limits } from "../core/limits.ts";
import { resolveLimits } from "../core/limits.ts";
import type { PlantedBugs } from "../core/planted-bugs.ts";
import { EventQueue } from "./event-queue.ts";
import type { NetworkFaults } from "./network.ts";
import { SimNetwork } from "./network.ts";
import type { Packet } from "./packets.ts";
import { Prng } from "./prng.ts";
import type { ClientTiming } from "./sim-client.ts";
import { SimClient } from "./sim-client.ts";
import type { DiskTiming } from "./sim-node.ts";
import { SimNode } from "./sim-node.ts";
import type { SimTrace } from "./trace.ts";
import { NO_TRACE } from "./trace.ts";
import type { WorkloadHistory } from "./workload.ts";
import { OpBudget, WorkloadDriver } from "./workload.ts";

/** What to simulate. */
export interface SeedOptions {
  readonly seed: number;
  /** Client operations to run (the final reads come on top). */
  readonly ops: number;
  readonly bugs: PlantedBugs;
  readonly trace?: SimTrace;
}

/** What one seed found. */
export interface SeedResult {
  readonly seed: number;
  /** Operations in the checked histories. */
  readonly ops: number;
  readonly violations: string[];
  readonly stats: SeedStats;
}

/** Counters that show how hard a seed pushed. */
export interface SeedStats {
  virtualMs: number;
  nodes: number;
  crashes: number;
  tornOrPartialDisks: number;
  partitions: number;
  pauses: number;
  reconfigs: number;
  unknownCalls: number;
  messages: number;
  slots: number;
  laggardReplacements: number;
}

const SAFETY_PHASE_MS_MAX = 30_000;
const LIVENESS_PHASE_MS_MAX = 60_000;
const CONVERGENCE_MS_MAX = 10_000;
const MEMBERS_MAX = 6;
const ACCEPTORS_MIN = 3;
const CLIENT_ENDPOINT_BASE = 10_000;

/** One seed's randomly chosen cluster, limits and fault rates. */
interface Profile {
  members: Member[];
  limits: Partial<Limits>;
  network: NetworkFaults;
  disk: DiskTiming;
  clients: number;
  thinkMsMax: number;
  timing: ClientTiming;
  faultIntervalMsMin: number;
  faultIntervalMsMax: number;
}

function chooseProfile(rng: Prng): Profile {
  const shape = rng.pick(["3", "3", "3", "5", "3+2", "2+1"]);
  const [replicas, acceptorsOnly] = shape.split("+").map(Number) as [number, number | undefined];
  const members: Member[] = [];
  for (let i = 1; i <= replicas; i++) members.push({ id: i, replica: true, acceptor: true });
  for (let i = 1; i <= (acceptorsOnly ?? 0); i++)
    members.push({ id: replicas + i, replica: false, acceptor: true });
  const smallMessages = rng.chance(0.25);
  const electionTicks = rng.int(15, 40);
  return {
    members,
    limits: {
      alpha: rng.pick([1, 2, 3, 8, 16, 32]),
      batchCommandsMax: rng.pick([1, 3, 16, 256]),
      messageBytesMax: smallMessages ? 2048 : 1 << 20,
      batchBytesMax: smallMessages ? 1024 : 64 * 1024,
      commandBytesMax: smallMessages ? 512 : 4096,
      snapshotIntervalSlots: rng.pick([5, 20, 100, 4096]),
      // Not drawn, so that existing seeds keep their runs: small-message seeds also snapshot by bytes.
      snapshotLogBytesMax: smallMessages ? 4096 : 16 * 1024 * 1024,
      snapshotChunkBytes: rng.pick([16, 200, 1 << 20]),
      sessionsMax: rng.pick([4, 64, 10_000]),
      sessionTimeoutMs: rng.pick([1500, 60_000]),
      electionTicks,
      heartbeatTicks: rng.int(2, Math.min(6, electionTicks - 1)),
      retransmitTicks: rng.int(4, 15),
      pendingCommandsMax: rng.pick([4, 1000]),
      // Half the seeds send fresh accepts to a quorum only, half to every acceptor; taken from a value
      // already drawn, so that existing seeds keep their runs.
      freshAcceptSpares: electionTicks % 2 === 0 ? 0 : MEMBERS_MAX,
    },
    network: {
      lossRate: rng.pick([0, 0.005, 0.02, 0.08]),
      duplicateRate: rng.pick([0, 0.01, 0.05]),
      delayMsMin: rng.float(0.05, 0.5),
      delayMsMax: rng.float(0.6, 6),
      lateDuplicateMsMax: rng.pick([0, 500, 2000]),
    },
    disk: { syncMsMin: 0.05, syncMsMax: rng.float(0.1, 2), slowSyncRate: 0.01, slowSyncMsMax: 40 },
    clients: rng.int(3, 6),
    thinkMsMax: rng.float(2, 40),
    timing: {
      attemptTimeoutMs: rng.int(150, 600),
      callDeadlineMs: rng.int(1500, 5000),
      retryBackoffMsMax: 20,
    },
    faultIntervalMsMin: rng.int(20, 150),
    faultIntervalMsMax: rng.int(200, 900),
  };
}

/**
 * Runs one seed: a cluster of real core nodes on a simulated network and disk, clients running a mixed
 * workload while faults strike (safety phase), then everything healed (liveness phase): the clients
 * must finish and every replica must converge. Decided slots are compared across nodes as they are
 * applied; the client history is checked for linearizability.
 *
 * @example
 * ```ts
 * const result = runSeed({ seed: 7, ops: 500, bugs: NO_BUGS });
 * result.violations; // [] when the protocol held
 * ```
 */
export function runSeed(options: SeedOptions): SeedResult {
  const rng = new Prng(options.seed);
  const profile = chooseProfile(rng.fork());
  const queue = new EventQueue();
  const violations: string[] = [];
  const trace = options.trace ?? NO_TRACE;
  const stats: SeedStats = {
    virtualMs: 0,
    nodes: profile.members.length,
    crashes: 0,
    tornOrPartialDisks: 0,
    partitions: 0,
    pauses: 0,
    reconfigs: 0,
    unknownCalls: 0,
    messages: 0,
    slots: 0,
    laggardReplacements: 0,
  };
  const nodes = new Map<number, SimNode>();
  const clients = new Map<number, SimClient>();
  const net = new SimNetwork<Packet>({
    queue,
    rng: rng.fork(),
    faults: profile.network,
    deliver: (from, to, packet) => {
      if (to >= CLIENT_ENDPOINT_BASE) clients.get(to)?.receive(from, packet);
      else nodes.get(to)?.receive(from, packet);
    },
  });

  // Agreement: every node must apply the same batch in each slot.
  const chosen = new Map<number, Batch>();
  const onApplied = (node: SimNode, applied: readonly { slot: number; batch: Batch }[]): void => {
    for (const { slot, batch } of applied) {
      const first = chosen.get(slot);
      if (!first) {
        for (const c of batch.commands) {
          if (c.body.kind === "reconfig")
            trace.event(queue.now, `slot ${slot}: ${JSON.stringify(c.body.change)}`);
        }
        chosen.set(slot, batch);
        stats.slots = Math.max(stats.slots, slot);
      } else if (batchKey(first) !== batchKey(batch)) {
        trace.event(
          queue.now,
          `slot ${slot}: node ${node.id} applied ${batchKey(batch)}, first ${batchKey(first)}`,
        );
        violations.push(`agreement: node ${node.id} applied a different value in slot ${slot}`);
      }
    }
  };

  const nodeRng = rng.fork();
  const initialConfig = makeConfig(profile.members);
  const addNode = (id: number, bootstrap: boolean): SimNode => {
    const node = new SimNode({
      id,
      queue,
      net,
      rng: nodeRng.fork(),
      limits: profile.limits,
      bugs: options.bugs,
      config: bootstrap ? initialConfig : makeConfig([]),
      tickMs: 10 * nodeRng.float(0.9, 1.1),
      disk: profile.disk,
      onApplied,
      trace,
    });
    nodes.set(id, node);
    node.start();
    return node;
  };
  for (const m of profile.members) addNode(m.id, true);
  const memberIds = (): number[] => [...nodes.values()].filter((n) => !n.retired).map((n) => n.id);

  const clientRng = rng.fork();
  const makeClient = (endpoint: number, timing: ClientTiming): SimClient => {
    const client = new SimClient({ endpoint, queue, net, rng: clientRng.fork(), members: memberIds, timing });
    clients.set(endpoint, client);
    return client;
  };

  // ---- faults ----------------------------------------------------------------------------------------
  let healed = false;
  const faultRng = rng.fork();
  // The admin holds the current view of membership, as an operator would.
  let view = profile.members.map((m) => ({ ...m }));
  let nextNodeId = profile.members.length + 1;
  const admin = makeClient(CLIENT_ENDPOINT_BASE + 999, { ...profile.timing, callDeadlineMs: 3000 });

  const reconfigure = (): void => {
    if (admin.busy) return;
    if (admin.sessionId === 0) {
      admin.openSession(() => {});
      return;
    }
    const acceptors = view.filter((m) => m.acceptor).length;
    const canRemove = view.length > ACCEPTORS_MIN && acceptors > ACCEPTORS_MIN;
    const add = !canRemove || (view.length < MEMBERS_MAX && faultRng.chance(0.5));
    if (add) {
      const replica = faultRng.chance(0.7);
      const member: Member = { id: nextNodeId++, replica, acceptor: true };
      addNode(member.id, false);
      admin.command({ kind: "reconfig", change: { kind: "add", member } }, (outcome) => {
        if (outcome.kind === "ok") view = [...view, member];
      });
    } else {
      const victim = faultRng.pick(view);
      // An operator never removes the last replica that holds the state: a replica added a moment ago
      // may not have caught up yet (joining as a learner first is the cluster-operations work).
      const caughtUp = (id: number): boolean => (nodes.get(id)?.core?.latestConfig().members.length ?? 0) > 0;
      if (victim.replica && !view.some((m) => m.replica && m.id !== victim.id && caughtUp(m.id))) return;
      admin.command({ kind: "reconfig", change: { kind: "remove", id: victim.id } }, (outcome) => {
        if (outcome.kind !== "ok") return;
        view = view.filter((m) => m.id !== victim.id);
        // The operator turns the removed machine off once the change is in effect.
        queue.after(2000, () => nodes.get(victim.id)?.retire());
      });
    }
    stats.reconfigs++;
  };

  /**
   * A replacement under a lagging replica: cut off from the leader and deaf to the member about to be
   * removed, the laggard misses an add and then a remove, so the config it knows is two changes stale and
   * its quorums ({laggard, removed member}) need not meet the new config's ({leader, added member}). The
   * leader decides well past what the removed member heard, then dies; the laggard now hears the removed
   * member, slowly, and not the added one. A correct laggard proposes only inside its window (whose
   * config it knows) and learns the changes before it goes further; the planted `no-alpha-window` bug
   * pumps on past the window while its first accepts are in flight, into slots the new majority has
   * decided. Other faults wait while this runs, so that each step happens as described.
   */
  let nemesisRunning = false;
  const replaceUnderLaggard = (): void => {
    if (admin.busy || admin.sessionId === 0 || view.length !== 3) return;
    const leader = [...nodes.values()].find((n) => n.core?.role === "leader");
    if (!leader || !view.every((m) => m.acceptor && nodes.get(m.id)?.alive)) return;
    const others = view.filter((m) => m.id !== leader.id);
    const laggard = others.find((m) => m.replica);
    const victim = others.find((m) => m !== laggard);
    if (!laggard || !victim) return;
    nemesisRunning = true;
    stats.laggardReplacements++;
    stats.reconfigs += 2;
    trace.event(
      queue.now,
      `nemesis: replace ${victim.id} while ${laggard.id} lags behind leader ${leader.id}`,
    );
    net.healAll();
    net.partition([leader.id], [laggard.id]);
    net.block(victim.id, laggard.id);
    const end = (): void => {
      nemesisRunning = false;
      net.healAll();
    };
    const member: Member = { id: nextNodeId++, replica: true, acceptor: true };
    addNode(member.id, false);
    admin.command({ kind: "reconfig", change: { kind: "add", member } }, (added) => {
      if (added.kind !== "ok") {
        end();
        return;
      }
      view = [...view, member];
      admin.command({ kind: "reconfig", change: { kind: "remove", id: victim.id } }, (removed) => {
        if (removed.kind !== "ok") {
          end();
          return;
        }
        view = view.filter((m) => m.id !== victim.id);
        // Let the leader decide well past the slots the removed member still heard of, then kill it.
        const target = (leader.core?.executed ?? 0) + 2 * resolveLimits(profile.limits).alpha + 8;
        const deadlineMs = queue.now + 2000;
        const waitThenKill = (): void => {
          if (healed || !leader.alive) {
            end();
            return;
          }
          if ((leader.core?.executed ?? 0) < target && queue.now < deadlineMs) {
            queue.after(20, waitThenKill);
            return;
          }
          leader.crash();
          stats.crashes++;
          net.healAll();
          net.partition([member.id], [laggard.id]);
          net.clog(victim.id, laggard.id, queue.now + 3000, faultRng.float(500, 1500));
          queue.after(faultRng.float(2000, 3000), () => {
            end();
            if (!healed) leader.start();
            nodes.get(victim.id)?.retire();
          });
        };
        waitThenKill();
      });
    });
  };

  const injectFault = (): void => {
    if (healed) return;
    if (nemesisRunning) {
      queue.after(faultRng.float(profile.faultIntervalMsMin, profile.faultIntervalMsMax), injectFault);
      return;
    }
    const alive = [...nodes.values()].filter((n) => n.alive);
    const roll = faultRng.next();
    if (roll < 0.03) {
      // Power failure: every node at once, each losing what it had not synced.
      for (const node of alive) {
        const loss = node.crash();
        stats.crashes++;
        if (loss === "prefix" || loss === "torn") stats.tornOrPartialDisks++;
        queue.after(faultRng.float(20, 1000), () => {
          if (!healed) node.start();
        });
      }
    } else if (roll < 0.3 && alive.length > 0) {
      const node = faultRng.pick(alive);
      const loss = node.crash();
      stats.crashes++;
      if (loss === "prefix" || loss === "torn") stats.tornOrPartialDisks++;
      queue.after(faultRng.float(20, 1500), () => {
        if (!healed) node.start();
      });
    } else if (roll < 0.5) {
      const ids = faultRng.pick([memberIds(), memberIds().reverse()]);
      const cut = faultRng.int(1, Math.max(1, ids.length - 1));
      net.partition(ids.slice(0, cut), ids.slice(cut));
      stats.partitions++;
      queue.after(faultRng.float(100, 2000), () => net.healAll());
    } else if (roll < 0.55) {
      const ids = memberIds();
      net.block(faultRng.pick(ids), faultRng.pick(ids));
      stats.partitions++;
      queue.after(faultRng.float(100, 1500), () => net.healAll());
    } else if (roll < 0.7) {
      const node = faultRng.pick(alive.length > 0 ? alive : [...nodes.values()]);
      const pauseMs = faultRng.float(100, 2000);
      node.pause(pauseMs);
      stats.pauses++;
      if (faultRng.chance(0.5)) {
        // Often paired with a cut to one peer: the paused node wakes up still believing in its old role,
        // and the peer that replaced it cannot tell it so.
        const peer = faultRng.pick(memberIds());
        net.partition([node.id], [peer]);
        queue.after(pauseMs + faultRng.float(0, 1000), () => net.healAll());
      }
    } else if (roll < 0.75) {
      const ids = memberIds();
      net.clog(
        faultRng.pick(ids),
        faultRng.pick(ids),
        queue.now + faultRng.float(100, 1000),
        faultRng.float(20, 2000),
      );
    } else if (roll < 0.83) {
      reconfigure();
    } else if (roll < 0.9) {
      replaceUnderLaggard();
    }
    queue.after(faultRng.float(profile.faultIntervalMsMin, profile.faultIntervalMsMax), injectFault);
  };

  const heal = (): void => {
    if (healed) return;
    healed = true;
    healedAtMs = queue.now;
    net.healAll();
    net.faults = { ...net.faults, lossRate: 0, duplicateRate: 0 };
    for (const node of nodes.values()) node.start();
    for (const resume of waitingForHeal.splice(0)) resume();
  };

  // ---- clients ---------------------------------------------------------------------------------------
  const history: WorkloadHistory = { counters: [], registers: [], queues: [] };
  let opId = 0;
  const safetyBudget = new OpBudget(Math.floor(options.ops * 0.8));
  const livenessBudget = new OpBudget(options.ops - safetyBudget.remaining);
  const waitingForHeal: (() => void)[] = [];
  let healedAtMs = Number.POSITIVE_INFINITY;
  let safetyDone = 0;
  let finished = 0;
  const drivers: WorkloadDriver[] = [];
  for (let i = 0; i < profile.clients; i++) {
    const client = makeClient(CLIENT_ENDPOINT_BASE + i, profile.timing);
    const driver = new WorkloadDriver({
      client,
      index: i,
      queue,
      rng: clientRng.fork(),
      history,
      thinkMsMax: profile.thinkMsMax,
      nextOpId: () => opId++,
    });
    drivers.push(driver);
    driver.run(safetyBudget, () => {
      safetyDone++;
      if (safetyDone === profile.clients) heal();
      const liveness = (): void => {
        // After the heal a call may wait as long as it needs: liveness is judged by the phase deadline.
        client.timing = { ...client.timing, callDeadlineMs: Number.POSITIVE_INFINITY };
        driver.run(livenessBudget, () => driver.finalReads(() => finished++));
      };
      if (healed) liveness();
      else waitingForHeal.push(liveness);
    });
  }

  queue.after(faultRng.float(10, 200), injectFault);

  try {
    queue.runUntil(SAFETY_PHASE_MS_MAX, () => healed || violations.length > 0);
    heal();
    const livenessDeadline = queue.now + LIVENESS_PHASE_MS_MAX;
    queue.runUntil(livenessDeadline, () => finished === profile.clients || violations.length > 0);
    if (finished < profile.clients && violations.length === 0) {
      violations.push(
        `liveness: ${profile.clients - finished} of ${profile.clients} clients unfinished ${LIVENESS_PHASE_MS_MAX} ms after the heal at ${Math.round(healedAtMs)} ms`,
      );
    }
    if (violations.length === 0) {
      const convergeDeadline = queue.now + CONVERGENCE_MS_MAX;
      let result = converged(nodes);
      for (let t = queue.now + 50; t <= convergeDeadline && result !== null; t += 50) {
        queue.runUntil(t);
        result = converged(nodes);
      }
      if (result !== null) violations.push(`convergence: ${result}`);
    }
  } catch (error) {
    if (!(error instanceof InvariantError)) throw error;
    violations.push(`invariant: ${error.message}`);
  }

  for (const n of nodes.values()) {
    trace.event(
      queue.now,
      `final node ${n.id}${n.retired ? " (retired)" : ""} ${JSON.stringify(n.core?.status() ?? null)}`,
    );
  }
  stats.virtualMs = Math.round(queue.now);
  stats.messages = net.sent;
  stats.nodes = nodes.size;
  stats.unknownCalls = drivers.reduce((sum, d) => sum + d.unknownCalls, 0);

  const checks: [string, CheckResult][] = [
    ["counters", checkHistory(counterModel, history.counters, { budgetSteps: 2_000_000 })],
    ["registers", checkHistory(registerModel, history.registers, { budgetSteps: 2_000_000 })],
    ["queues", checkHistory(queueModel, history.queues, { budgetSteps: 20_000_000 })],
  ];
  for (const [name, result] of checks) {
    if (result.result === "illegal") violations.push(`linearizability (${name}): ${result.message}`);
    if (result.result === "unknown")
      violations.push(`linearizability (${name}) inconclusive: ${result.reason}`);
  }
  return {
    seed: options.seed,
    ops: history.counters.length + history.registers.length + history.queues.length,
    violations,
    stats,
  };
}

/** Null when a leader and every replica of its config have applied the same slots to the same state. */
function converged(nodes: ReadonlyMap<number, SimNode>): string | null {
  const leaders = [...nodes.values()].filter((n) => n.core?.role === "leader");
  if (leaders.length === 0) return "no leader";
  const leader = leaders[0]!.core!;
  const reference = stateKey(leader.snapshotNow());
  for (const member of leader.latestConfig().members) {
    if (!member.replica) continue;
    const core = nodes.get(member.id)?.core;
    if (!core) return `replica ${member.id} is down`;
    if (core.executed !== leader.executed) {
      return `replica ${member.id} executed ${core.executed}, leader ${leader.id} executed ${leader.executed}`;
    }
    if (stateKey(core.snapshotNow()) !== reference)
      return `replica ${member.id} state differs from leader ${leader.id}`;
  }
  return null;
}

function stateKey(snapshot: ReturnType<NonNullable<SimNode["core"]>["snapshotNow"]>): string {
  return JSON.stringify({
    app: Buffer.from(snapshot.app).toString("hex"),
    sessions: snapshot.sessions.map((s) => [
      s.id,
      s.ackedThrough,
      s.lastActiveMs,
      s.replies.map((r) => r[0]),
    ]),
    configs: snapshot.configs,
    clock: snapshot.clockMs,
    next: snapshot.nextSessionId,
  });
}

function batchKey(batch: Batch): string {
  return `${batch.timeMs}|${batch.commands.map((c) => `${c.clientId}:${c.seq}:${c.body.kind}`).join(",")}`;
}

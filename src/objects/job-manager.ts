import { caller, type Parked, park, type Waiter, wake } from "../object/api.ts";
import { checkWaiters, integerArg, invariant, plainWaiter, withoutCall, withoutClient } from "./shared.ts";

/**
 * Completing or requeueing a job that the caller's client has not claimed.
 *
 * @example
 * ```ts
 * throw new NotClaimer("job 4 is claimed by client 9, not 2");
 * ```
 */
export class NotClaimer extends Error {
  override name = "NotClaimer";
}

/**
 * Naming a job id that was never submitted, or is already complete.
 *
 * @example
 * ```ts
 * throw new NoSuchJob("no job 12 (never submitted, or complete)");
 * ```
 */
export class NoSuchJob extends Error {
  override name = "NoSuchJob";
}

/** A claimed job, as `claim()` returns it. */
export interface ClaimedJob {
  readonly id: number;
  readonly job: unknown;
}

/** A job not yet complete: its payload, and the client that claimed it (null while queued). */
export interface JobRecord {
  readonly job: unknown;
  claimer: number | null;
}

/** How many jobs are in each state, as `status()` returns it. */
export interface JobCounts {
  readonly queued: number;
  readonly claimed: number;
  readonly completed: number;
  /** `claim()` calls waiting for a job. */
  readonly waiting: number;
}

/**
 * A work queue with at-least-once processing (ConCoord's `JobManager`): producers `submit` jobs, workers
 * `claim` one, do it, and `complete` it.
 *
 * - `submit(job)` returns the job's id (1, 2, 3…) and hands it straight to the oldest waiting `claim()`.
 * - `claim()` returns `{ id, job }` for the oldest queued job, or waits for one. The job then belongs to
 *   the claiming client session: only that client may `complete(id)` or `requeue(id)` it (`NotClaimer`).
 * - `requeue(id)` gives a claimed job back, to the END of the queue: the worker could not do it now, so
 *   the jobs behind it get their turn first.
 * - When a worker's session expires, the jobs it had claimed go back to the FRONT of the queue, oldest
 *   first — they have waited longest — and are handed at once to waiting claims. Its own waiting claims are
 *   dropped first, so they are never handed to it. A timed-out claim is dropped and takes nothing.
 * - Jobs are processed at least once: a worker that did the work but died before `complete` leaves its job
 *   to be done again. Make jobs idempotent.
 *
 * @example
 * ```ts
 * const jobs = client.object<JobManager>("jobs");
 * await jobs.submit({ resize: "cat.png" }); // 1
 * const { id, job } = await jobs.claim(); // waits while nothing is queued
 * await resize(job);
 * await jobs.complete(id);
 * ```
 */
export class JobManager {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["status"];

  /** The id the next submitted job gets. */
  nextId = 1;
  /** Jobs not yet complete, by id. */
  jobs = new Map<number, JobRecord>();
  /** Ids of the jobs waiting to be claimed, next first. */
  queue: number[] = [];
  /** `claim()` calls waiting for a job, oldest first; only while `queue` is empty. */
  claimers: Waiter<ClaimedJob>[] = [];
  /** How many jobs were completed. */
  completed = 0;

  /**
   * Adds a job (any plain data); returns its id.
   *
   * @example
   * ```ts
   * await jobs.submit({ resize: "cat.png" }); // 1
   * ```
   */
  submit(job: unknown): number {
    const id = this.nextId;
    this.nextId += 1;
    this.jobs.set(id, { job, claimer: null });
    this.queue.push(id);
    this._dispatch();
    return id;
  }

  /**
   * Claims the oldest queued job, waiting while there is none.
   *
   * @example
   * ```ts
   * const { id, job } = await jobs.claim();
   * ```
   */
  claim(): ClaimedJob | Parked<ClaimedJob> {
    const me = caller();
    const id = this.queue.shift();
    if (id !== undefined) return this._assign(id, me.clientId);
    this.claimers.push(plainWaiter<ClaimedJob>(me.waiter));
    this._check();
    return park<ClaimedJob>();
  }

  /**
   * Marks a job the caller's client claimed as done. Throws `NoSuchJob` or `NotClaimer`.
   *
   * @example
   * ```ts
   * await jobs.complete(1);
   * ```
   */
  complete(id: number): void {
    this._claimedByCaller(id, "complete");
    this.jobs.delete(id);
    this.completed += 1;
    this._check();
  }

  /**
   * Gives a job the caller's client claimed back, to the end of the queue (or to a waiting claim). Throws
   * `NoSuchJob` or `NotClaimer`.
   *
   * @example
   * ```ts
   * await jobs.requeue(1);
   * ```
   */
  requeue(id: number): void {
    const record = this._claimedByCaller(id, "requeue");
    record.claimer = null;
    this.queue.push(id);
    this._dispatch();
  }

  /**
   * How many jobs are queued, claimed and completed, and how many claims wait.
   *
   * @example
   * ```ts
   * await jobs.status(); // { queued: 3, claimed: 1, completed: 10, waiting: 0 }
   * ```
   */
  status(): JobCounts {
    return {
      queued: this.queue.length,
      claimed: this.jobs.size - this.queue.length,
      completed: this.completed,
      waiting: this.claimers.length,
    };
  }

  /** Hook: the dead client's claims are dropped, then its jobs go back to the front, oldest first. */
  __concoordsessionexpired__(clientId: number): void {
    this.claimers = withoutClient(this.claimers, clientId);
    // Map iteration follows insertion, i.e. id order: the oldest job first.
    const orphans: number[] = [];
    for (const [id, record] of this.jobs)
      if (record.claimer === clientId) {
        record.claimer = null;
        orphans.push(id);
      }
    this.queue.unshift(...orphans);
    this._dispatch();
  }

  /** Hook: a timed-out claim is dropped; it holds no job (its client gets a Timeout error). */
  __concoordtimeout__(waiter: Waiter): void {
    this.claimers = withoutCall(this.claimers, waiter);
  }

  /** Gives the job to `clientId` and returns what its claim returns. */
  private _assign(id: number, clientId: number): ClaimedJob {
    const record = this.jobs.get(id);
    invariant(record !== undefined && record.claimer === null, "a queued job exists and is unclaimed");
    record.claimer = clientId;
    return { id, job: record.job };
  }

  /** Hands queued jobs to waiting claims, both oldest first, while there are both. */
  private _dispatch(): void {
    while (this.queue.length > 0 && this.claimers.length > 0) {
      const claimer = this.claimers.shift()!;
      wake(claimer, this._assign(this.queue.shift()!, claimer.clientId));
    }
    this._check();
  }

  /** The record of job `id`, checked to be claimed by the caller's client. */
  private _claimedByCaller(id: number, what: string): JobRecord {
    const me = caller();
    const jobId = integerArg(id, "id", 1);
    const record = this.jobs.get(jobId);
    if (record === undefined) throw new NoSuchJob(`no job ${jobId} (never submitted, or complete)`);
    if (record.claimer !== me.clientId)
      throw new NotClaimer(
        `${what}(${jobId}) by client ${me.clientId}, but the job is ${record.claimer === null ? "queued" : `claimed by client ${record.claimer}`}`,
      );
    return record;
  }

  private _check(): void {
    checkWaiters(this.claimers, undefined, "JobManager");
    invariant(this.queue.length === 0 || this.claimers.length === 0, "nobody waits while jobs are queued");
  }
}

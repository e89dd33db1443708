import { parentPort } from "node:worker_threads";
import type { PlantedBug } from "../core/planted-bugs.ts";
import { runSeed } from "./run-seed.ts";

// One seed per request: the pool hands out seeds as workers free up.
parentPort?.on("message", (request: { seed: number; ops: number; bugs: PlantedBug[] }) => {
  parentPort?.postMessage(runSeed({ seed: request.seed, ops: request.ops, bugs: new Set(request.bugs) }));
});

#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command } from "commander";

/**
 * The `concoord` command. Each subcommand loads its own modules when it runs, so `--help` stays fast.
 *
 * @example
 * ```sh
 * concoord sim --seeds 100
 * ```
 */
export function buildProgram(): Command {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const program = new Command("concoord")
    .description("Replicated coordination objects kept linearizable by Multi-Paxos")
    .version(pkg.version)
    .showHelpAfterError();
  program
    .command("sim")
    .description("run the deterministic fault simulation of the consensus core (see `concoord sim --help`)")
    .helpOption(false)
    .allowUnknownOption(true)
    .argument("[args...]", "simulator flags: --seeds N, --seed S, --ops M, --bug NAME, --trace")
    .action(async (args: string[]) => {
      const { simCommand } = await import("../sim/cli.ts");
      process.exitCode = await simCommand(args);
    });
  return program;
}

await buildProgram().parseAsync(process.argv);

#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { runCommand } from "./cli-error.ts";

/**
 * The `concoord` command. Each subcommand loads its own modules when it runs, so `--help` stays fast.
 *
 * @example
 * ```sh
 * concoord replica -f counter.ts -c Counter -p 14000 --peers 127.0.0.1:14000,127.0.0.1:14001,127.0.0.1:14002
 * ```
 */
export function buildProgram(): Command {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const program = new Command("concoord")
    .description("Replicated coordination objects kept linearizable by Multi-Paxos")
    .version(pkg.version);

  const nodeOptions = (command: Command): Command =>
    command
      .option("-a, --addr <ADDR>", "address to listen on and be known by", "127.0.0.1")
      .option("-p, --port <PORT>", "port (default: a free one in 14000-15000, printed)")
      .option(
        "--peers <HOST:PORT,...>",
        "the replicas of the cluster, this one included (same list on every node)",
      )
      .option("--acceptors <HOST:PORT,...>", "the acceptor-only members (same list on every node)")
      .option(
        "-b, --bootstrap <HOST:PORT,...|DOMAIN>",
        "join a running cluster through these nodes (or the replicas a domain's SRV records list) instead of --peers",
      )
      .option(
        "--dns-server <HOST:PORT>",
        "the name server that resolves a domain given to -b (default: the system's)",
      )
      .option(
        "-w, --data-dir <DIR>",
        "where to keep the log and snapshots (default ./concoord-data/<host>-<port>)",
      )
      .option("--in-memory", "keep nothing on disk (a crash of a majority loses data)")
      .option("--snapshot-interval <SLOTS>", "snapshot the state every this many slots (default 4096)")
      .option(
        "--remove-after <SECONDS>",
        "as leader, remove a member unreachable this long (off by default: see README)",
      )
      .option("-l, --logger <HOST:PORT>", "also send log lines to a TCP log sink")
      .option("-d, --debug", "debug logs");

  nodeOptions(
    program
      .command("replica")
      .description("run a replica that hosts the object(s) and may lead")
      .option("-f, --file <FILE>", "the object's .ts or .js file (with -c)")
      .option("-c, --class <CLASS>", "the class to replicate, named after itself")
      .option(
        "-o, --library-object <NAME>",
        "an object of the library: Lock, Queue, ... (repeatable)",
        collect,
        [],
      )
      .option(
        "--object <NAME=SOURCE>",
        "a named object: NAME=FILE:CLASS or NAME=Lock (repeatable)",
        collect,
        [],
      )
      .option("-s, --safe", "refuse objects that fail the static safety check")
      .option("-n, --domain <DOMAIN>", "also be an authoritative name server for the cluster under DOMAIN")
      .option("--dns-addr <ADDR>", "address the name server listens on (default: -a)")
      .option(
        "--dns-port <PORT>",
        "port of the name server, UDP and TCP (default 53, which needs privileges)",
      )
      .option("--dns-ttl <SECONDS>", "TTL of the records served (default 30)")
      .option("-r, --route53", "with -n: publish the cluster to the Route53 hosted zone DOMAIN instead"),
  ).action((opts: Record<string, string | boolean | string[] | undefined>) =>
    runCommand("replica", async () => {
      const { runNode } = await import("./commands/node.ts");
      return runNode("replica", {
        ...nodeFlags(opts),
        file: opts.file as string | undefined,
        className: opts.class as string | undefined,
        library: opts.libraryObject as string[],
        objects: opts.object as string[],
        safe: opts.safe === true,
        domain: opts.domain as string | undefined,
        dnsAddr: opts.dnsAddr as string | undefined,
        dnsPort: opts.dnsPort as string | undefined,
        dnsTtl: opts.dnsTtl as string | undefined,
        route53: opts.route53 === true,
      });
    }),
  );

  nodeOptions(
    program.command("acceptor").description("run an acceptor-only node (votes and stores accepted values)"),
  ).action((opts: Record<string, string | boolean | string[] | undefined>) =>
    runCommand("acceptor", async () => {
      const { runNode } = await import("./commands/node.ts");
      return runNode("acceptor", nodeFlags(opts));
    }),
  );

  program
    .command("call")
    .description("call a method from the shell; arguments are JSON where they parse, else strings")
    .requiredOption("-b, --bootstrap <HOST:PORT,...|DOMAIN>", "nodes of the cluster, or its domain")
    .option("--dns-server <HOST:PORT>", "the name server that resolves a domain given to -b")
    .option("-o, --object <NAME>", "which object, when the cluster hosts several")
    .option("-t, --timeout <MS>", "give up after this long (the outcome is then unknown)", "5000")
    .argument("<method>")
    .argument("[args...]")
    .action(
      (
        method: string,
        args: string[],
        opts: { bootstrap: string; object?: string; timeout?: string; dnsServer?: string },
      ) =>
        runCommand("call", async () => {
          const { runCall } = await import("./commands/call.ts");
          return runCall(method, args, opts);
        }),
    );

  program
    .command("status")
    .description("show a node's role, ballot, leader, executed slot, members and data directory as JSON")
    .requiredOption("-b, --bootstrap <HOST:PORT>", "the node to ask")
    .option("--pretty", "a table instead of JSON")
    .action((opts: { bootstrap: string; pretty?: boolean }) =>
      runCommand("status", async () => {
        const { runStatus } = await import("./commands/status.ts");
        return runStatus(opts);
      }),
    );

  program
    .command("member")
    .description("list, add or remove members (changes go through the log, one at a time)")
    .argument("<action>", "list | add HOST:PORT | remove ID")
    .argument("[args...]")
    .requiredOption("-b, --bootstrap <HOST:PORT,...>", "any node(s) of the cluster")
    .option("--acceptor", "add an acceptor-only member")
    .option("--json", "machine-readable list")
    .action(
      (action: string, args: string[], opts: { bootstrap: string; acceptor?: boolean; json?: boolean }) =>
        runCommand("member", async () => {
          const { runMember } = await import("./commands/member.ts");
          return runMember(action, args, opts);
        }),
    );

  program
    .command("proxy")
    .description(
      "a non-voting node that forwards clients to the current leader; clients may bootstrap from it",
    )
    .requiredOption("-b, --bootstrap <HOST:PORT,...>", "any node(s) of the cluster")
    .option("-a, --addr <ADDR>", "address to listen on", "127.0.0.1")
    .option("-p, --port <PORT>", "port (default: a free one in 14000-15000, printed)")
    .option("-d, --debug", "debug logs")
    .action((opts: { bootstrap: string; addr?: string; port?: string; debug?: boolean }) =>
      runCommand("proxy", async () => {
        const { runProxy } = await import("./commands/proxy.ts");
        return runProxy(opts);
      }),
    );

  program
    .command("health")
    .description("check every member, like etcdctl cluster-health; exit 0 only when the cluster is healthy")
    .requiredOption("-b, --bootstrap <HOST:PORT,...>", "any node(s) of the cluster")
    .option("--json", "machine-readable output")
    .action((opts: { bootstrap: string; json?: boolean }) =>
      runCommand("health", async () => {
        const { runHealth } = await import("./commands/health.ts");
        return runHealth(opts);
      }),
    );

  program
    .command("nameserver")
    .description(
      "a name server for the cluster that is not a member: serve it, or push it to a master or Route53",
    )
    .requiredOption("-n, --domain <DOMAIN>", "the zone to answer for (or update)")
    .requiredOption("-b, --bootstrap <HOST:PORT,...>", "any node(s) of the cluster")
    .option("-t, --type <1|2|3>", "1 standalone server, 2 slave: update the master -m, 3 Route53", "1")
    .option("-m, --master <HOST[:PORT]>", "with -t 2: the master name server to send signed updates to")
    .option("-o, --config <FILE>", "YAML: the TSIG key (tsig: {name, secret}) and Route53 settings")
    .option("-r, --route53", "the same as -t 3")
    .option("-a, --addr <ADDR>", "address to serve DNS on", "127.0.0.1")
    .option("-p, --port <PORT>", "port to serve DNS on, UDP and TCP (default 53, which needs privileges)")
    .option("--ttl <SECONDS>", "TTL of the records (default 30)")
    .option("--dns-server <HOST:PORT>", "the name server that resolves a domain given to -b")
    .option("-d, --debug", "debug logs")
    .action((opts: Record<string, string | boolean | undefined>) =>
      runCommand("nameserver", async () => {
        const { runNameserver } = await import("./commands/nameserver.ts");
        const text = (k: string): string | undefined =>
          typeof opts[k] === "string" ? (opts[k] as string) : undefined;
        return runNameserver({
          domain: text("domain")!,
          bootstrap: text("bootstrap")!,
          type: text("type"),
          master: text("master"),
          config: text("config"),
          addr: text("addr"),
          port: text("port"),
          ttl: text("ttl"),
          route53: opts.route53 === true,
          dnsServer: text("dnsServer"),
          debug: opts.debug === true,
        });
      }),
    );

  program
    .command("route53")
    .description("store Route53 credentials for -r / -t 3 in the user's config file (mode 0600)")
    .option("--id <ACCESS_KEY_ID>", "the AWS access key id")
    .option("--key <SECRET_ACCESS_KEY>", "the AWS secret access key")
    .action((opts: { id?: string; key?: string }) =>
      runCommand("route53", async () => {
        const { runRoute53Command } = await import("./commands/route53.ts");
        return runRoute53Command(opts);
      }),
    );

  program
    .command("dev")
    .description("start a local durable cluster (the tutorial's Counter by default) until Ctrl-C")
    .addOption(new Option("--replicas <N>", "how many replicas").default("3"))
    .option("-f, --file <FILE>", "the object's file")
    .option("-c, --class <CLASS>", "the class to replicate")
    .option("-a, --addr <ADDR>", "address to listen on", "127.0.0.1")
    .option("--base-port <PORT>", "first port; replicas take the following ones", "14000")
    .option("-w, --data-dir <DIR>", "parent of the replicas' data directories", "concoord-data")
    .option("-v, --verbose", "show every replica log line")
    .action((opts: Record<string, string | boolean | undefined>) =>
      runCommand("dev", async () => {
        const { runDev } = await import("./commands/dev.ts");
        return runDev({
          replicas: opts.replicas as string,
          file: opts.file as string | undefined,
          className: opts.class as string | undefined,
          basePort: opts.basePort as string,
          addr: opts.addr as string,
          dataDir: opts.dataDir as string,
          verbose: opts.verbose === true,
        });
      }),
    );

  program
    .command("object")
    .description("write a typed client proxy for a class (<file>proxy.ts), optionally after a safety check")
    .requiredOption("-f, --file <FILE>", "the object's file")
    .requiredOption("-c, --class <CLASS>", "the class")
    .option("--out <PATH>", "where to write the proxy")
    .option("--object <NAME>", "the object's name in a cluster that hosts several (default: the class name)")
    .option("-s, --safe", "check the object first; any finding is printed as file:line:col and exits 1")
    .option("-v, --verbose", "say what is being done")
    .action(
      (opts: {
        file: string;
        class: string;
        out?: string;
        object?: string;
        safe?: boolean;
        verbose?: boolean;
      }) =>
        runCommand("object", async () => {
          const { runObject } = await import("./commands/object.ts");
          return runObject({ ...opts, className: opts.class });
        }),
    );

  program
    .command("sim")
    .description("run the deterministic fault simulation of the consensus core (see `concoord sim --help`)")
    .helpOption(false)
    .allowUnknownOption(true)
    .argument("[args...]", "simulator flags: --seeds N, --seed S, --ops M, --bug NAME, --trace")
    .action((args: string[]) =>
      runCommand("sim", async () => {
        const { simCommand } = await import("../sim/cli.ts");
        return simCommand(args);
      }),
    );
  return program;
}

/** Commander's accumulator for repeatable options. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function nodeFlags(opts: Record<string, string | boolean | string[] | undefined>) {
  const text = (k: string): string | undefined =>
    typeof opts[k] === "string" ? (opts[k] as string) : undefined;
  return {
    addr: text("addr"),
    port: text("port"),
    peers: text("peers"),
    bootstrap: text("bootstrap"),
    snapshotInterval: text("snapshotInterval"),
    removeAfter: text("removeAfter"),
    acceptors: text("acceptors"),
    dataDir: text("dataDir"),
    dnsServer: text("dnsServer"),
    inMemory: opts.inMemory === true,
    logger: text("logger"),
    debug: opts.debug === true,
  };
}

await buildProgram().parseAsync(process.argv);

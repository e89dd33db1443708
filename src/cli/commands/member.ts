import { connect } from "../../client/client.ts";
import type { Member } from "../../core/config.ts";
import { formatAddress, parseAddress } from "../../host/address.ts";
import { CliError } from "../cli-error.ts";

/**
 * `concoord member list|add|remove -b BOOTSTRAP` (etcdctl's shape). Changes go through the log, one at a
 * time; the command returns when the change is in effect.
 *
 * @example
 * ```sh
 * concoord member remove -b 127.0.0.1:14000 3
 * ```
 */
export async function runMember(
  action: string,
  args: readonly string[],
  options: { bootstrap: string; acceptor?: boolean; json?: boolean },
): Promise<number> {
  const client = await connect(options.bootstrap, { timeoutMs: 15_000 });
  try {
    const members = client.view.members;
    switch (action) {
      case "list":
        if (options.json) process.stdout.write(`${JSON.stringify(members)}\n`);
        else for (const m of members) process.stdout.write(`${describe(m)}\n`);
        return 0;
      case "add": {
        const text = args[0];
        if (!text) throw new CliError("member add needs HOST:PORT");
        const address = formatAddress(parseAddressOrFail(text));
        const id = Math.max(0, ...members.map((m) => m.id)) + 1;
        const member: Member = { id, replica: !options.acceptor, acceptor: true, address };
        await client.reconfigure({ kind: "add", member });
        process.stdout.write(`added ${describe(member)}; start it with -b ${options.bootstrap}\n`);
        return 0;
      }
      case "remove": {
        const id = Number(args[0]);
        if (!Number.isInteger(id) || id < 1)
          throw new CliError(`member remove needs a member id, got "${args[0] ?? ""}"`);
        await client.reconfigure({ kind: "remove", id });
        process.stdout.write(`removed member ${id}\n`);
        return 0;
      }
      default:
        throw new CliError(`unknown action "${action}": use list, add or remove`);
    }
  } catch (error) {
    if (error instanceof Error && error.name === "ReconfigRefused")
      throw new CliError(`refused: ${error.message}`);
    throw error;
  } finally {
    await client.close();
  }
}

function describe(m: Member): string {
  return `${m.id} ${m.address ?? "-"} ${m.replica ? "replica" : "acceptor"}`;
}

function parseAddressOrFail(text: string) {
  try {
    return parseAddress(text);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

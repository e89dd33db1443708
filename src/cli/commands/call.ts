import { connect } from "../../client/client.ts";
import { CliError } from "../cli-error.ts";

/**
 * `concoord call -b BOOTSTRAP METHOD [ARGS...]`: arguments are JSON where they parse as JSON, else
 * strings; the result is printed as JSON.
 *
 * @example
 * ```sh
 * concoord call -b 127.0.0.1:14000 increment
 * ```
 */
export async function runCall(
  method: string,
  args: readonly string[],
  options: { bootstrap: string; object?: string; timeout?: string; dnsServer?: string },
): Promise<number> {
  const timeoutMs = options.timeout === undefined ? 5000 : Number(options.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new CliError(`--timeout: "${options.timeout}" is not a number of ms`);
  const client = await connect(options.bootstrap, {
    timeoutMs,
    ...(options.dnsServer ? { dnsServer: options.dnsServer } : {}),
  });
  try {
    const value = await client.call(
      options.object ?? defaultObjectName(client),
      method,
      args.map(parseArgument),
    );
    process.stdout.write(`${toJson(value)}\n`);
    return 0;
  } finally {
    await client.close();
  }
}

function defaultObjectName(client: Awaited<ReturnType<typeof connect>>): string {
  const names = client.objectNames;
  if (names.length === 1) return names[0]!;
  throw new CliError(
    `the cluster hosts ${names.length} objects (${names.join(", ")}); choose one with --object`,
  );
}

/** `5` → 5, `"a"` → "a", `[1,2]` → [1, 2], `hello` → "hello". */
export function parseArgument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** JSON with Map, Set, bigint and bytes shown in a readable form. */
export function toJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (v instanceof Map) return Object.fromEntries(v);
      if (v instanceof Set) return [...v];
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
      return v;
    }) ?? "null"
  );
}

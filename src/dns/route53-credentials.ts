import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** The AWS access key pair Route53 mode signs its requests with. */
export interface Route53Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A credentials file that exists but cannot be used; the message says which file and why. */
export class Route53CredentialsError extends Error {
  override readonly name = "Route53CredentialsError";
}

const CONFIG_FILE_NAME = "route53.json";
const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;
/** Group and other bits: a secret readable by anyone but its owner is refused. */
const WIDER_THAN_OWNER_MASK = 0o077;
/** A credentials file is two short strings; anything much bigger is not one. */
const FILE_BYTES_MAX = 64 * 1024;

/**
 * Where `concoord route53` keeps the credentials: `$CONCOORD_CONFIG_DIR/route53.json` when set, else
 * `$XDG_CONFIG_HOME/concoord/route53.json`, else `~/.config/concoord/route53.json`.
 *
 * @example
 * ```ts
 * route53ConfigPath({ CONCOORD_CONFIG_DIR: "/tmp/cc" }); // "/tmp/cc/route53.json"
 * ```
 */
export function route53ConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONCOORD_CONFIG_DIR) return join(env.CONCOORD_CONFIG_DIR, CONFIG_FILE_NAME);
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "concoord", CONFIG_FILE_NAME);
}

/**
 * Stores the credentials at `path`, readable by the owner only (0600, in a 0700 directory when it has
 * to be created). The file is replaced whole, so a file left with wider permissions ends up 0600 and a
 * crash mid-write never leaves half a secret behind.
 *
 * @example
 * ```ts
 * await saveRoute53Credentials({ accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "…" });
 * ```
 */
export async function saveRoute53Credentials(
  credentials: Route53Credentials,
  path: string = route53ConfigPath(),
): Promise<void> {
  if (credentials.accessKeyId.length === 0 || credentials.secretAccessKey.length === 0) {
    throw new Error("saveRoute53Credentials needs a non-empty access key id and secret access key");
  }
  await mkdir(dirname(path), { recursive: true, mode: DIRECTORY_MODE });
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const text = `${JSON.stringify({ accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }, null, 2)}\n`;
  try {
    // Created 0600 from the start ("wx" refuses to follow a planted file), so the secret is never
    // readable by others, not even between the write and the chmod.
    const file = await open(temporary, "wx", FILE_MODE);
    try {
      await file.writeFile(text, "utf8");
      await file.sync();
    } finally {
      await file.close();
    }
    // The umask could have taken bits away from 0600; the owner must still be able to read it back.
    await chmod(temporary, FILE_MODE);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * The stored credentials, or null when there are none. Throws Route53CredentialsError when the file is
 * malformed or readable by others than its owner.
 *
 * @example
 * ```ts
 * const credentials = await loadRoute53Credentials(); // null: fall back to the SDK's default chain
 * ```
 */
export async function loadRoute53Credentials(
  path: string = route53ConfigPath(),
): Promise<Route53Credentials | null> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Route53CredentialsError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (!info.isFile()) throw new Route53CredentialsError(`${path} is not a file`);
  // Windows has no such permission bits; there the file's ACL decides.
  if (process.platform !== "win32" && (info.mode & WIDER_THAN_OWNER_MASK) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new Route53CredentialsError(
      `${path} holds a secret but has mode ${mode}; run "chmod 600 ${path}" or store the credentials again with "concoord route53"`,
    );
  }
  if (info.size > FILE_BYTES_MAX) {
    throw new Route53CredentialsError(`${path} is ${info.size} bytes, too big for a credentials file`);
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Route53CredentialsError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseCredentials(text, path);
}

function parseCredentials(text: string, path: string): Route53Credentials {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Route53CredentialsError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const { accessKeyId, secretAccessKey } = record;
  if (typeof accessKeyId !== "string" || accessKeyId.length === 0) {
    throw new Route53CredentialsError(`${path} has no "accessKeyId" string`);
  }
  if (typeof secretAccessKey !== "string" || secretAccessKey.length === 0) {
    throw new Route53CredentialsError(`${path} has no "secretAccessKey" string`);
  }
  return { accessKeyId, secretAccessKey };
}

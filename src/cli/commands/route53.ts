import { route53ConfigPath, saveRoute53Credentials } from "../../dns/route53-credentials.ts";
import { CliError } from "../cli-error.ts";

/** AWS access key ids are upper-case letters and digits (`AKIA…`, `ASIA…`), 16 to 128 of them. */
const ACCESS_KEY_ID_PATTERN = /^[A-Z0-9]{16,128}$/;

/**
 * `concoord route53 --id ID --key KEY`: stores the AWS credentials that Route53 mode uses, in the
 * user's config file, readable by the owner only. The secret is never echoed.
 *
 * @example
 * ```sh
 * concoord route53 --id AKIAIOSFODNN7EXAMPLE --key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
 * ```
 */
export async function runRoute53Command(options: { id?: string; key?: string }): Promise<number> {
  const { id, key } = options;
  if (id === undefined || id === "" || key === undefined || key === "") {
    throw new CliError("route53 needs both --id ACCESS_KEY_ID and --key SECRET_ACCESS_KEY");
  }
  if (!ACCESS_KEY_ID_PATTERN.test(id)) {
    throw new CliError(
      `--id "${id}" does not look like an AWS access key id (16 to 128 upper-case letters and digits)`,
    );
  }
  // A key pasted with a line break or a space would only fail later, as a signature mismatch.
  if (/\s/.test(key)) throw new CliError("--key holds white space; an AWS secret access key has none");
  const path = route53ConfigPath();
  try {
    await saveRoute53Credentials({ accessKeyId: id, secretAccessKey: key }, path);
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${(error as Error).message}`);
  }
  process.stdout.write(`concoord: Route53 credentials saved to ${path} (mode 0600)\n`);
  return 0;
}

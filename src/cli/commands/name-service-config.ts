import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { CliError } from "../cli-error.ts";

const ConfigSchema = z
  .object({
    tsig: z
      .object({
        name: z.string().min(1),
        algorithm: z.literal("hmac-sha256").default("hmac-sha256"),
        secret: z.string().min(1),
      })
      .strict()
      .optional(),
    route53: z
      .object({ endpoint: z.url().optional(), region: z.string().min(1).optional() })
      .strict()
      .optional(),
  })
  .strict();

/** The `-o CONFIG` file of a name service. */
export type NameServiceConfig = z.infer<typeof ConfigSchema>;

/**
 * Reads `-o CONFIG` (YAML). Unknown keys are errors, so a typo is reported instead of ignored.
 *
 * @example
 * ```yaml
 * tsig: { name: concoord-key, algorithm: hmac-sha256, secret: c2VjcmV0... }
 * route53: { region: us-east-1 }
 * ```
 */
export async function readNameServiceConfig(file: string | undefined): Promise<NameServiceConfig> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`-o ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new CliError(`-o ${file}: not YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CliError(`-o ${file}: ${issue.path.join(".") || "(top)"}: ${issue.message}`);
  }
  return parsed.data;
}

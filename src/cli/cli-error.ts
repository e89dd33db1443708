/**
 * An error the user can fix: the CLI prints its message as one line and exits with `exitCode`.
 *
 * @example
 * ```ts
 * throw new CliError("port 14000 on 127.0.0.1 is in use; pick another with -p");
 * ```
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Runs a command body, turning expected failures into one line on stderr and an exit code. */
export async function runCommand(name: string, body: () => Promise<number | undefined>): Promise<void> {
  try {
    const code = await body();
    if (typeof code === "number") process.exitCode = code;
  } catch (error) {
    const known = [
      "CliError",
      "ObjectLoadError",
      "StorageError",
      "ConnectionError",
      "Timeout",
      "RemoteError",
    ];
    const e = error as Error;
    if (known.includes(e.constructor.name) || known.includes(e.name) || e instanceof CliError) {
      process.stderr.write(`concoord ${name}: ${e.message.split("\n")[0]}\n`);
      process.exitCode = e instanceof CliError ? e.exitCode : 1;
      return;
    }
    process.stderr.write(`concoord ${name}: unexpected error: ${e.stack ?? e.message}\n`);
    process.exitCode = 1;
  }
}

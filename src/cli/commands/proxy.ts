import { createLogger } from "../../log/logger.ts";
import { ClusterProxy } from "../../proxy/proxy.ts";
import { CliError } from "../cli-error.ts";
import { canBind, findFreePort } from "../ports.ts";

/**
 * `concoord proxy -b BOOTSTRAP [-a ADDR] [-p PORT]`: a non-voting node clients can use as their
 * bootstrap; it forwards to the current leader. Runs until SIGINT/SIGTERM.
 *
 * @example
 * ```sh
 * concoord proxy -b 127.0.0.1:14000 -p 15000
 * ```
 */
export async function runProxy(options: {
  bootstrap: string;
  addr?: string;
  port?: string;
  debug?: boolean;
}): Promise<number> {
  const host = options.addr ?? "127.0.0.1";
  const port = options.port === undefined ? await findFreePort(host) : Number(options.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CliError(`-p: "${options.port}" is not a port`);
  if (!(await canBind(host, port)))
    throw new CliError(`port ${port} on ${host} is in use; pick another with -p`);
  const logger = createLogger({ name: "proxy", debug: options.debug ?? false });
  let proxy: ClusterProxy;
  try {
    proxy = await ClusterProxy.start({ bootstrap: options.bootstrap, listen: { host, port }, logger });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  process.stdout.write(
    `concoord proxy listening on ${host}:${port}, forwarding to the cluster at ${options.bootstrap}\n`,
  );
  return await new Promise<number>((done) => {
    const stop = (): void => void proxy.stop().then(() => done(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

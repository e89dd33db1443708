import { createServer } from "node:net";

/** Tries random ports in [min, max] until one can be bound on `host` (at most `tries` times). */
export async function findFreePort(host: string, min = 14000, max = 15000, tries = 50): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    if (await canBind(host, port)) return port;
  }
  throw new Error(`no free port in ${min}-${max} on ${host} after ${tries} tries`);
}

/** True when `host:port` can be listened on right now. */
export function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

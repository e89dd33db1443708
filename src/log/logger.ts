import { connect } from "node:net";
import { Writable } from "node:stream";
import type { DestinationStream, Logger } from "pino";
import { multistream, pino } from "pino";

/** How a process logs. */
export interface LoggerOptions {
  /** Component name, e.g. `replica`. */
  readonly name: string;
  readonly debug?: boolean;
  /** `host:port` of a TCP log sink that receives the same JSON lines (ConCoord's `-l`). */
  readonly remote?: string;
  /** Human-readable lines instead of JSON (default: when stderr is a terminal). */
  readonly pretty?: boolean;
}

/**
 * pino JSON lines on stderr (readable lines on a terminal), optionally copied to a remote TCP sink.
 *
 * @example
 * ```ts
 * const log = createLogger({ name: "replica", debug: true });
 * log.info({ port: 14000 }, "listening");
 * ```
 */
export function createLogger(options: LoggerOptions): Logger {
  const streams: { stream: DestinationStream; level: "debug" | "info" }[] = [];
  const level = options.debug ? "debug" : "info";
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  streams.push({ stream: pretty ? prettyStream(process.stderr) : process.stderr, level });
  if (options.remote) streams.push({ stream: remoteStream(options.remote), level });
  return pino({ name: options.name, level }, multistream(streams));
}

/** Turns pino's JSON lines into `HH:MM:SS.mmm LEVEL name: message key=value`. */
function prettyStream(out: NodeJS.WritableStream): DestinationStream {
  const names: Record<number, string> = {
    10: "TRACE",
    20: "DEBUG",
    30: "INFO",
    40: "WARN",
    50: "ERROR",
    60: "FATAL",
  };
  return {
    write(line: string): void {
      try {
        const {
          time,
          level,
          name,
          msg,
          pid: _pid,
          hostname: _host,
          ...rest
        } = JSON.parse(line) as Record<string, unknown>;
        const stamp = new Date(Number(time)).toISOString().slice(11, 23);
        const extra = Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
          .join(" ");
        out.write(
          `${stamp} ${names[Number(level)] ?? level} ${String(name)}: ${String(msg ?? "")}${extra ? ` ${extra}` : ""}\n`,
        );
      } catch {
        out.write(line);
      }
    },
  };
}

/**
 * A sink that copies log lines to `host:port` over TCP. Lines written while it is not connected are
 * dropped (bounded: logging must never block or grow memory); it reconnects every few seconds.
 */
function remoteStream(target: string): DestinationStream {
  const [host, portText] = [
    target.slice(0, target.lastIndexOf(":")),
    target.slice(target.lastIndexOf(":") + 1),
  ];
  const port = Number(portText);
  let socket: ReturnType<typeof connect> | null = null;
  let connected = false;
  const open = (): void => {
    socket = connect({ host, port });
    socket.on("connect", () => {
      connected = true;
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      connected = false;
      setTimeout(open, REMOTE_RETRY_MS).unref();
    });
    socket.unref();
  };
  open();
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (connected && socket && socket.writableLength < REMOTE_QUEUE_BYTES_MAX) socket.write(chunk);
      callback();
    },
  });
}

const REMOTE_RETRY_MS = 2000;
const REMOTE_QUEUE_BYTES_MAX = 4 * 1024 * 1024;

export type { Logger };

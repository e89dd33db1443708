import { connect as tcpConnect } from "node:net";
import type { Address } from "../host/address.ts";
import type { SendPoint } from "./connection.ts";
import { FrameConnection } from "./connection.ts";
import type { Frame, WelcomeFrame } from "./frames.ts";
import { PROTOCOL_VERSION } from "./frames.ts";

/**
 * Connects to a node as a client: says hello, and resolves with the connection and the node's welcome.
 * An error frame, a closed connection or silence past `timeoutMs` rejects. Frames after the welcome go
 * to `onFrame`; `onClose` hears of the connection's end once the welcome was received.
 *
 * @example
 * ```ts
 * const { conn, welcome } = await dialNode({ host: "127.0.0.1", port: 14000 }, { timeoutMs: 1000, onFrame, onClose });
 * ```
 */
export function dialNode(
  address: Address,
  handlers: {
    readonly timeoutMs: number;
    readonly onFrame: (frame: Frame, conn: FrameConnection) => void;
    readonly onClose: (conn: FrameConnection) => void;
    /** When queued frames leave (see {@link SendPoint}); default `"tick"`. */
    readonly sendsAt?: SendPoint;
  },
): Promise<{ conn: FrameConnection; welcome: WelcomeFrame }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: address.host, port: address.port });
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error("no answer to hello")), handlers.timeoutMs);
    const conn: FrameConnection = new FrameConnection(
      socket,
      {
        onFrame: (frame) => {
          if (settled) {
            handlers.onFrame(frame, conn);
            return;
          }
          if (frame.t === "error") {
            fail(new Error(frame.message));
            return;
          }
          if (frame.t !== "welcome") return;
          settled = true;
          clearTimeout(timer);
          resolve({ conn, welcome: frame });
        },
        onClose: () => {
          if (!settled) {
            fail(new Error("connection closed"));
            return;
          }
          handlers.onClose(conn);
        },
      },
      handlers.sendsAt === undefined ? {} : { sendsAt: handlers.sendsAt },
    );
    socket.on("error", (error) => fail(error));
    socket.on("connect", () => conn.send({ t: "hello", v: PROTOCOL_VERSION, role: "client" }));
  });
}

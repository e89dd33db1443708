import type { Command, Reply } from "../core/command.ts";
import type { Message } from "../core/messages.ts";

/** What travels on the simulated network: peer messages, client requests and their responses. */
export type Packet =
  | { readonly kind: "peer"; readonly message: Message }
  | { readonly kind: "command"; readonly requestId: number; readonly command: Command }
  | { readonly kind: "read"; readonly requestId: number; readonly query: Uint8Array }
  | { readonly kind: "response"; readonly requestId: number; readonly reply: Reply };

import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * A shared TSIG key (RFC 8945) as the master name server knows it, e.g. from `tsig-keygen`.
 *
 * @example
 * ```ts
 * const key: TsigKey = { name: "concoord-key", algorithm: "hmac-sha256", secret: parseTsigSecret(base64) };
 * ```
 */
export interface TsigKey {
  /** The key's name, as in the master's `key "<name>" { … }` statement. */
  readonly name: string;
  readonly algorithm: "hmac-sha256";
  readonly secret: Buffer;
}

/** The TSIG error codes (RFC 8945 section 3) that a server may put in a response. */
export const TSIG_ERRORS: Readonly<Record<number, string>> = {
  16: "BADSIG",
  17: "BADKEY",
  18: "BADTIME",
  19: "BADMODE",
  20: "BADNAME",
  21: "BADALG",
  22: "BADTRUNC",
};

/** How far apart the signer's and the verifier's clocks may be, the value RFC 8945 recommends. */
export const TSIG_FUDGE_SECONDS_DEFAULT = 300;

/** A shorter secret is guessable; `tsig-keygen` makes 32 bytes for hmac-sha256. */
export const TSIG_SECRET_BYTES_MIN = 16;

/** HMAC-SHA256 output; responses with a truncated MAC are not accepted. */
const MAC_BYTES = 32;
const ALGORITHM_NAME = "hmac-sha256";
const TYPE_TSIG = 250;
const CLASS_ANY = 255;
const HEADER_BYTES = 12;
/** A name has at most 127 labels, so following more pointers than that means a loop. */
const NAME_LABELS_MAX = 128;
const UINT48_MAX = 2 ** 48 - 1;

/**
 * Decodes a base64 TSIG secret, as written in `named.conf` or by `tsig-keygen`; throws with the reason
 * when it is not base64 or too short to be safe.
 *
 * @example
 * ```ts
 * const secret = parseTsigSecret("Y29uY29vcmQtdGVzdC1zZWNyZXQtMzItYnl0ZXMhISE=");
 * ```
 */
export function parseTsigSecret(base64: string): Buffer {
  const text = base64.trim();
  // Buffer.from ignores characters outside the alphabet, which would hide a mistyped secret.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error('the TSIG secret is not base64 (as in named.conf\'s `secret "…";`)');
  }
  const secret = Buffer.from(text, "base64");
  if (secret.length < TSIG_SECRET_BYTES_MIN) {
    throw new Error(
      `the TSIG secret has ${secret.length} bytes; at least ${TSIG_SECRET_BYTES_MIN} are needed (tsig-keygen makes 32)`,
    );
  }
  return secret;
}

/** When and how a message is signed. */
export interface SignOptions {
  /** Seconds since the Unix epoch, from the caller's clock. */
  readonly timeSignedSeconds: number;
  readonly fudgeSeconds?: number;
  /** The message ID the MAC covers; the message's own ID by default. */
  readonly originalId?: number;
  /** Set when signing a response: the MAC of the request it answers. */
  readonly requestMac?: Buffer;
}

/**
 * Appends a TSIG record signed with `key` to the additional section of `message` and counts it in
 * ARCOUNT. The returned MAC is what the response's signature covers, so keep it for `verifyResponse`.
 *
 * @example
 * ```ts
 * const { signed, mac } = signMessage(update, key, { timeSignedSeconds: Math.floor(Date.now() / 1000) });
 * ```
 */
export function signMessage(
  message: Buffer,
  key: TsigKey,
  options: SignOptions,
): { readonly signed: Buffer; readonly mac: Buffer } {
  assertKey(key);
  if (message.length < HEADER_BYTES) throw new Error("a DNS message has a 12-byte header");
  const fudgeSeconds = options.fudgeSeconds ?? TSIG_FUDGE_SECONDS_DEFAULT;
  const originalId = options.originalId ?? message.readUInt16BE(0);
  assertUint(options.timeSignedSeconds, UINT48_MAX, "timeSignedSeconds");
  assertUint(fudgeSeconds, 0xffff, "fudgeSeconds");
  assertUint(originalId, 0xffff, "originalId");
  const arCount = message.readUInt16BE(10);
  if (arCount === 0xffff) throw new Error("the additional section is full");

  const times = { timeSignedSeconds: options.timeSignedSeconds, fudgeSeconds };
  const mac = computeMac(key, message, originalId, times, 0, Buffer.alloc(0), options.requestMac);
  const algorithm = encodeName(ALGORITHM_NAME);
  const rdata = Buffer.concat([
    algorithm,
    uint48(options.timeSignedSeconds),
    uint16(fudgeSeconds),
    uint16(mac.length),
    mac,
    uint16(originalId),
    uint16(0), // error
    uint16(0), // other len
  ]);
  const rr = Buffer.concat([
    encodeName(key.name),
    uint16(TYPE_TSIG),
    uint16(CLASS_ANY),
    uint32(0),
    uint16(rdata.length),
    rdata,
  ]);
  const signed = Buffer.concat([message, rr]);
  signed.writeUInt16BE(arCount + 1, 10);
  return { signed, mac };
}

/** The outcome of checking a response's signature; `tsigError` names the server's TSIG error. */
export type TsigVerification =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string; readonly tsigError?: string };

/**
 * Checks the TSIG record of a response to a request signed with `key` whose MAC was `requestMac`:
 * the key and algorithm, the server's TSIG error (BADSIG, BADKEY, BADTIME…), the MAC and the time.
 *
 * @example
 * ```ts
 * const check = verifyResponse(response, key, mac, { nowSeconds: Math.floor(Date.now() / 1000) });
 * if (!check.ok) log.error({ tsigError: check.tsigError }, check.reason);
 * ```
 */
export function verifyResponse(
  response: Buffer,
  key: TsigKey,
  requestMac: Buffer,
  options: { readonly nowSeconds: number },
): TsigVerification {
  assertKey(key);
  let tsig: ParsedTsig | null;
  try {
    tsig = readTsig(response);
  } catch (e) {
    return { ok: false, reason: `the response is malformed: ${(e as Error).message}` };
  }
  if (tsig === null) return { ok: false, reason: "the response is not signed" };
  if (tsig.error !== 0) {
    const name = TSIG_ERRORS[tsig.error] ?? `TSIG error ${tsig.error}`;
    return { ok: false, reason: `the server answered with TSIG error ${name}`, tsigError: name };
  }
  if (tsig.keyName !== canonicalName(key.name)) {
    return { ok: false, reason: `the response is signed with key "${tsig.keyName}", not "${key.name}"` };
  }
  if (tsig.algorithm !== ALGORITHM_NAME) {
    return { ok: false, reason: `the response is signed with ${tsig.algorithm}, not ${ALGORITHM_NAME}` };
  }
  if (tsig.mac.length !== MAC_BYTES) {
    return { ok: false, reason: `the response's MAC has ${tsig.mac.length} bytes, not ${MAC_BYTES}` };
  }
  const unsigned = Buffer.from(response.subarray(0, tsig.offset));
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const expected = computeMac(
    key,
    unsigned,
    tsig.originalId,
    { timeSignedSeconds: tsig.timeSignedSeconds, fudgeSeconds: tsig.fudgeSeconds },
    tsig.error,
    tsig.otherData,
    requestMac,
  );
  if (!timingSafeEqual(expected, tsig.mac)) {
    return { ok: false, reason: "the response's MAC does not match (another secret?)", tsigError: "BADSIG" };
  }
  // Checked after the MAC, as RFC 8945 orders it, so that a forged time is never reported as BADTIME.
  if (Math.abs(options.nowSeconds - tsig.timeSignedSeconds) > tsig.fudgeSeconds) {
    return {
      ok: false,
      reason: `the response was signed at ${tsig.timeSignedSeconds}, more than ${tsig.fudgeSeconds} s from now (${options.nowSeconds})`,
      tsigError: "BADTIME",
    };
  }
  return { ok: true };
}

/** The fields of a TSIG record and where it starts in the message. */
interface ParsedTsig {
  readonly offset: number;
  readonly keyName: string;
  readonly algorithm: string;
  readonly timeSignedSeconds: number;
  readonly fudgeSeconds: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly otherData: Buffer;
}

/** The TSIG record, which must be the last one of the message, or null when there is none. */
function readTsig(message: Buffer): ParsedTsig | null {
  if (message.length < HEADER_BYTES) throw new Error("shorter than a header");
  const counts = [4, 6, 8, 10].map((at) => message.readUInt16BE(at));
  const [qdCount, anCount, nsCount, arCount] = counts as [number, number, number, number];
  if (arCount === 0) return null;
  let offset = HEADER_BYTES;
  for (let i = 0; i < qdCount; i++) offset = skipName(message, offset) + 4;
  const records = anCount + nsCount + arCount;
  let last = offset;
  for (let i = 0; i < records; i++) {
    last = offset;
    const rdataAt = skipName(message, offset) + 10;
    need(message, rdataAt);
    const type = message.readUInt16BE(rdataAt - 10);
    if (type === TYPE_TSIG && i !== records - 1) throw new Error("a TSIG record that is not the last one");
    offset = rdataAt + message.readUInt16BE(rdataAt - 2);
    need(message, offset);
  }
  const nameEnd = skipName(message, last);
  if (message.readUInt16BE(nameEnd) !== TYPE_TSIG) return null;
  const keyName = readName(message, last);
  let at = nameEnd + 10;
  const algorithm = readName(message, at);
  at = skipName(message, at);
  need(message, at + 10);
  const timeSignedSeconds = message.readUIntBE(at, 6);
  const fudgeSeconds = message.readUInt16BE(at + 6);
  const macBytes = message.readUInt16BE(at + 8);
  at += 10;
  need(message, at + macBytes + 6);
  const mac = message.subarray(at, at + macBytes);
  at += macBytes;
  const originalId = message.readUInt16BE(at);
  const error = message.readUInt16BE(at + 2);
  const otherBytes = message.readUInt16BE(at + 4);
  at += 6;
  need(message, at + otherBytes);
  const otherData = message.subarray(at, at + otherBytes);
  return {
    offset: last,
    keyName,
    algorithm,
    timeSignedSeconds,
    fudgeSeconds,
    mac,
    originalId,
    error,
    otherData,
  };
}

/** The MAC over the digest input of RFC 8945 section 4.3.3 (request MAC, message, TSIG variables). */
function computeMac(
  key: TsigKey,
  message: Buffer,
  originalId: number,
  times: { readonly timeSignedSeconds: number; readonly fudgeSeconds: number },
  error: number,
  otherData: Buffer,
  requestMac: Buffer | undefined,
): Buffer {
  const hmac = createHmac("sha256", key.secret);
  if (requestMac !== undefined) hmac.update(Buffer.concat([uint16(requestMac.length), requestMac]));
  hmac.update(uint16(originalId));
  hmac.update(message.subarray(2));
  hmac.update(
    Buffer.concat([
      encodeName(key.name),
      uint16(CLASS_ANY),
      uint32(0),
      encodeName(ALGORITHM_NAME),
      uint48(times.timeSignedSeconds),
      uint16(times.fudgeSeconds),
      uint16(error),
      uint16(otherData.length),
      otherData,
    ]),
  );
  return hmac.digest();
}

function assertKey(key: TsigKey): void {
  if (key.algorithm !== ALGORITHM_NAME) throw new Error(`unsupported TSIG algorithm ${key.algorithm}`);
  if (key.secret.length === 0) throw new Error("the TSIG secret is empty");
  encodeName(key.name);
}

function assertUint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`${what} ${value} is out of range`);
  }
}

/** Lower case, without the trailing dot: the canonical form the MAC covers (RFC 8945 section 4.3.3). */
function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/** A name in wire form, uncompressed and in canonical (lower) case. */
function encodeName(name: string): Buffer {
  const canonical = canonicalName(name);
  const labels = canonical === "" ? [] : canonical.split(".");
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, "ascii");
    if (bytes.length === 0 || bytes.length > 63) {
      throw new Error(`"${name}" has a label of ${bytes.length} bytes`);
    }
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > 255) throw new Error(`"${name}" is longer than 255 bytes`);
  return wire;
}

/** The offset just past the name at `offset` (a compression pointer ends a name). */
function skipName(message: Buffer, offset: number): number {
  let at = offset;
  for (let labels = 0; labels < NAME_LABELS_MAX; labels++) {
    need(message, at + 1);
    const length = message[at]!;
    if (length === 0) return at + 1;
    if ((length & 0xc0) === 0xc0) return at + 2;
    if ((length & 0xc0) !== 0) throw new Error(`unknown label type at ${at}`);
    at += 1 + length;
  }
  throw new Error(`a name with more than ${NAME_LABELS_MAX} labels at ${offset}`);
}

/** The name at `offset`, following compression pointers, in canonical form. */
function readName(message: Buffer, offset: number): string {
  const labels: string[] = [];
  let at = offset;
  for (let steps = 0; steps < NAME_LABELS_MAX; steps++) {
    need(message, at + 1);
    const length = message[at]!;
    if (length === 0) return canonicalName(labels.join("."));
    if ((length & 0xc0) === 0xc0) {
      need(message, at + 2);
      at = message.readUInt16BE(at) & 0x3fff;
      continue;
    }
    need(message, at + 1 + length);
    labels.push(message.toString("ascii", at + 1, at + 1 + length));
    at += 1 + length;
  }
  throw new Error(`a name with more than ${NAME_LABELS_MAX} labels or a pointer loop at ${offset}`);
}

function need(message: Buffer, end: number): void {
  if (end > message.length) throw new Error(`truncated at ${message.length} bytes, ${end} needed`);
}

function uint16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

function uint32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

function uint48(value: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(value, 0, 6);
  return b;
}

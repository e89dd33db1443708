import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TsigKey } from "../../src/dns/tsig.ts";
import { parseTsigSecret, signMessage, verifyResponse } from "../../src/dns/tsig.ts";

const KEY: TsigKey = {
  name: "concoord-key",
  algorithm: "hmac-sha256",
  secret: parseTsigSecret("Y29uY29vcmQtdGVzdC1zZWNyZXQtMzItYnl0ZXMhISE="),
};

/**
 * An UPDATE for counterdomain.test (delete the apex A RRset, add 127.0.0.1) as `nsupdate -y
 * hmac-sha256:concoord-key:<secret>` sent it, split into the message and the TSIG record it appended.
 */
const NSUPDATE_MESSAGE = Buffer.from(
  "d76e280000010000000200000d636f756e746572646f6d61696e04746573740000060001c00c000100ff00000000" +
    "0000c00c000100010000001e00047f000001",
  "hex",
);
const NSUPDATE_TIME_SIGNED_SECONDS = 0x6b0351c7;
const NSUPDATE_MAC = "6a3ff203421461a6ccc779a011d647b58e2e22a3b6b4ea53f93fc68f10aee276";
const NSUPDATE_TSIG_RR =
  "0c636f6e636f6f72642d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b0351c7012c0020" +
  `${NSUPDATE_MAC}d76e00000000`;

/** A response a server would send: the request's header and zone section with QR set, signed by it. */
function serverResponse(request: Buffer, requestMac: Buffer, timeSignedSeconds: number): Buffer {
  return signMessage(responseHeader(request, 0), KEY, { timeSignedSeconds, requestMac }).signed;
}

/** The request's header and zone section with QR and `rcode` set and no records. */
function responseHeader(request: Buffer, rcode: number): Buffer {
  const zoneEnd = 12 + request.subarray(12).indexOf(0) + 1 + 4;
  const response = Buffer.from(request.subarray(0, zoneEnd));
  response.writeUInt16BE((request.readUInt16BE(2) & 0xfff0) | 0x8000 | rcode, 2);
  response.fill(0, 6, 12);
  return response;
}

/** A TSIG record for concoord-key with an empty MAC and a TSIG error, laid out as RFC 8945 section 4.2. */
function unsignedTsigRecord(originalId: number, error: number): Buffer {
  const rdata = Buffer.concat([
    Buffer.from("0b686d61632d73686132353600", "hex"), // hmac-sha256.
    Buffer.from("000000000001012c0000", "hex"), // time signed 1, fudge 300, MAC size 0
    Buffer.from([originalId >> 8, originalId & 0xff, error >> 8, error & 0xff, 0, 0]),
  ]);
  const head = Buffer.from("0c636f6e636f6f72642d6b65790000fa00ff00000000", "hex");
  return Buffer.concat([head, Buffer.from([rdata.length >> 8, rdata.length & 0xff]), rdata]);
}

describe("TSIG", () => {
  it("signs exactly as nsupdate does", () => {
    const { signed, mac } = signMessage(NSUPDATE_MESSAGE, KEY, {
      timeSignedSeconds: NSUPDATE_TIME_SIGNED_SECONDS,
    });
    assert.equal(mac.toString("hex"), NSUPDATE_MAC);
    assert.equal(signed.readUInt16BE(10), 1);
    assert.equal(signed.subarray(NSUPDATE_MESSAGE.length).toString("hex"), NSUPDATE_TSIG_RR);
  });

  it("accepts a response signed over the request MAC and rejects tampering", () => {
    const t = 1_800_000_000;
    const { mac } = signMessage(NSUPDATE_MESSAGE, KEY, { timeSignedSeconds: t });
    const response = serverResponse(NSUPDATE_MESSAGE, mac, t + 2);
    assert.deepEqual(verifyResponse(response, KEY, mac, { nowSeconds: t + 3 }), { ok: true });

    const tampered = Buffer.from(response);
    tampered[3] = 0x05; // REFUSED
    const check = verifyResponse(tampered, KEY, mac, { nowSeconds: t + 3 });
    assert.equal(check.ok, false);
    assert.equal(!check.ok && check.tsigError, "BADSIG");

    const otherRequest = verifyResponse(response, KEY, Buffer.alloc(32, 1), { nowSeconds: t + 3 });
    assert.equal(otherRequest.ok, false);

    const otherSecret = { ...KEY, secret: Buffer.alloc(32, 7) };
    assert.equal(verifyResponse(response, otherSecret, mac, { nowSeconds: t + 3 }).ok, false);
  });

  it("reports a response signed too far from now as BADTIME", () => {
    const t = 1_800_000_000;
    const { mac } = signMessage(NSUPDATE_MESSAGE, KEY, { timeSignedSeconds: t });
    const response = serverResponse(NSUPDATE_MESSAGE, mac, t);
    const check = verifyResponse(response, KEY, mac, { nowSeconds: t + 301 });
    assert.equal(!check.ok && check.tsigError, "BADTIME");
    assert.equal(verifyResponse(response, KEY, mac, { nowSeconds: t - 300 }).ok, true);
  });

  it("names the server's TSIG error and refuses unsigned responses", () => {
    const { mac } = signMessage(NSUPDATE_MESSAGE, KEY, { timeSignedSeconds: 1 });
    const response = responseHeader(NSUPDATE_MESSAGE, 9); // NOTAUTH
    assert.deepEqual(verifyResponse(response, KEY, mac, { nowSeconds: 1 }), {
      ok: false,
      reason: "the response is not signed",
    });

    // BIND answers a bad signature with NOTAUTH and a TSIG record without MAC carrying BADSIG (16).
    const withError = Buffer.concat([response, unsignedTsigRecord(0xd76e, 16)]);
    withError.writeUInt16BE(1, 10);
    const check = verifyResponse(withError, KEY, mac, { nowSeconds: 1 });
    assert.equal(check.ok, false);
    assert.equal(!check.ok && check.tsigError, "BADSIG");
  });

  it("validates secrets", () => {
    assert.throws(() => parseTsigSecret("not base64!"), /not base64/);
    assert.throws(() => parseTsigSecret("c2hvcnQ="), /at least 16/);
    assert.equal(parseTsigSecret(" Y29uY29vcmQtdGVzdC1zZWNyZXQtMzItYnl0ZXMhISE=\n").length, 32);
  });
});

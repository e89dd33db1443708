import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { crc32c, crc32cBytewise } from "../../src/storage/crc32c.ts";

describe("crc32c", () => {
  it("matches the known answers (check value and RFC 3720 B.4 vectors)", () => {
    assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  });

  it("slicing-by-8 equals the byte-at-a-time reference, and can be continued", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (bytes, cut) => {
        const at = Math.min(cut, bytes.length);
        assert.equal(crc32c(bytes), crc32cBytewise(bytes));
        assert.equal(crc32c(bytes.subarray(at), crc32c(bytes.subarray(0, at))), crc32c(bytes));
      }),
    );
  });
});

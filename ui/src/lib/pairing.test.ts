import { describe, expect, it } from "vitest";
import { parsePairingPayload } from "./pairing";

describe("pairing payloads", () => {
  it("reads the QR link and its JSON form", () => {
    expect(parsePairingPayload("outpost://pair?desk=https%3A%2F%2Fdesk.example&code=ABCD-1234")).toEqual({
      desk: "https://desk.example",
      code: "ABCD-1234",
    });
    expect(parsePairingPayload(' {"desk": "http://127.0.0.1:8710", "code": "X1"} ')).toEqual({
      desk: "http://127.0.0.1:8710",
      code: "X1",
    });
  });

  it("ignores anything else", () => {
    for (const text of ["", "hello", "outpost://pair?desk=x", "{not json", '{"desk": 1, "code": "x"}']) {
      expect(parsePairingPayload(text), text).toBeNull();
    }
  });
});

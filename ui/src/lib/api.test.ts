import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { device, tickets } from "./api";

afterEach(() => clearMocks());

describe("the api module", () => {
  it("calls the core's commands with camelCase arguments", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "pair") return { desk_url: "http://127.0.0.1:8710", device_id: "d", user_id: "u", org_id: "o", role: "engineer" };
      return null;
    });
    const paired = await device.pair("http://127.0.0.1:8710", "CODE", "tablet");
    expect(paired.role).toBe("engineer");
    await tickets.act("t1", { type: "add_note", text: "hello" });
    expect(calls).toEqual([
      ["pair", { deskUrl: "http://127.0.0.1:8710", code: "CODE", deviceName: "tablet" }],
      ["act", { id: "t1", action: { type: "add_note", text: "hello" } }],
    ]);
  });

  it("rejects with the core's typed error", async () => {
    mockIPC(() => {
      throw { type: "refused", message: "not allowed: a ticket that is assigned cannot be moved to resolved" };
    });
    await expect(tickets.act("t1", { type: "resolve" })).rejects.toEqual({
      type: "refused",
      message: "not allowed: a ticket that is assigned cannot be moved to resolved",
    });
  });

  it("turns anything else thrown into an internal error", async () => {
    mockIPC(() => {
      throw "boom";
    });
    await expect(device.status()).rejects.toEqual({ type: "internal", message: "boom" });
  });
});

describe("attempt", () => {
  it("resolves to null on success and to the typed error on failure", async () => {
    const { attempt } = await import("./api");
    expect(await attempt(async () => 1)).toBeNull();
    expect(await attempt(async () => Promise.reject({ type: "invalid", message: "x" }))).toEqual({ type: "invalid", message: "x" });
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { tick } from "svelte";
import ReadyBanner from "./ReadyBanner.svelte";
import type { Readiness } from "../lib/bindings/Readiness";

afterEach(() => {
  cleanup();
  clearMocks();
});

const settle = async () => {
  await new Promise((r) => setTimeout(r, 10));
  await tick();
};

const lacking: Readiness = {
  ready: false,
  tickets: [
    {
      id: "t1",
      number: "T-2026-000001",
      title: "Array degraded",
      missing: [
        { what: "site", id: "s1", reason: "not_synced" },
        { what: "thumbnail", id: "h1", reason: "not_downloaded" },
      ],
      kb_articles: 2,
    },
  ],
  last_full_sync_at: Date.now() - 3_600_000,
  stale: false,
  max_age_hours: 12,
};

describe("the ready-to-go-offline banner", () => {
  it("says what each visit lacks and why, and fetches it", async () => {
    const asked: string[] = [];
    mockIPC((cmd, args) => {
      asked.push(cmd);
      if (cmd === "readiness") return lacking;
      if (cmd === "fetch_missing") {
        expect((args as { day: unknown }).day).toBeNull();
        return { ...lacking, ready: true, tickets: [{ ...lacking.tickets[0], missing: [] }] };
      }
      return null;
    });
    render(ReadyBanner);
    await settle();
    const banner = screen.getByTestId("ready-banner");
    expect(banner.dataset.ready).toBe("false");
    expect(screen.getByTestId("ready-missing").textContent?.replace(/\s+/g, " ")).toContain(
      "T-2026-000001: site (not on this device yet), photo preview (not downloaded)",
    );
    await fireEvent.click(screen.getByTestId("ready-fetch"));
    await settle();
    expect(asked).toContain("fetch_missing");
    expect(screen.getByTestId("ready-banner").dataset.ready).toBe("true");
  });

  it("warns when the last full sync is too old", async () => {
    mockIPC((cmd) => (cmd === "readiness" ? { ...lacking, tickets: [], stale: true, last_full_sync_at: null } : null));
    render(ReadyBanner);
    await settle();
    expect(screen.getByTestId("ready-banner").textContent).toContain("never finished a full sync");
  });

  it("offers no fetch for what only the dispatcher can add", async () => {
    const contactOnly = { ...lacking.tickets[0], missing: [{ what: "contact" as const, id: null, reason: "not_on_ticket" as const }] };
    mockIPC((cmd) => (cmd === "readiness" ? { ...lacking, tickets: [contactOnly] } : null));
    render(ReadyBanner);
    await settle();
    expect(screen.getByTestId("ready-missing").textContent).toContain("ask the dispatcher");
    expect(screen.queryByTestId("ready-fetch")).toBeNull();
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { tick } from "svelte";
import Tickets from "./Tickets.svelte";
import type { TicketRow } from "../lib/bindings/TicketRow";

afterEach(() => {
  cleanup();
  clearMocks();
});

const row = (n: number, due: number | null): TicketRow => ({
  id: `id-${n}`,
  number: `T-2026-00000${n}`,
  title: `Ticket ${n}`,
  status: "assigned",
  priority: "p2",
  client: "Уралтрансбанк",
  site: "DC",
  address: "",
  due_at: due,
  timer_running: false,
  conflicts: 0,
});

describe("the ticket list", () => {
  it("shows tickets in the core's order with live countdowns, breached in red", async () => {
    const now = Date.now();
    let filter: unknown = null;
    mockIPC((cmd, args) => {
      if (cmd === "tickets") {
        filter = (args as { filter: unknown }).filter;
        return [row(1, now - 3_600_000), row(2, now + 5 * 3_600_000), row(3, null)];
      }
      return null;
    });
    render(Tickets);
    await new Promise((r) => setTimeout(r, 10));
    await tick();
    const rows = screen.getAllByTestId("ticket-row");
    expect(rows.map((r) => r.dataset.id)).toEqual(["id-1", "id-2", "id-3"]);
    const dues = screen.getAllByTestId("due");
    expect(dues[0].classList.contains("breached")).toBe(true);
    expect(dues[1].classList.contains("breached")).toBe(false);
    expect(filter).toMatchObject({ statuses: [], search: null, visits_between: null });
  });
});

describe("the ticket list beside an open ticket", () => {
  it("marks the open ticket's row", async () => {
    mockIPC((cmd) => (cmd === "tickets" ? [row(1, null), row(2, null)] : null));
    render(Tickets, { selected: "id-2" });
    await new Promise((r) => setTimeout(r, 10));
    await tick();
    const rows = screen.getAllByTestId("ticket-row");
    expect(rows.map((r) => r.getAttribute("aria-current"))).toEqual(["false", "true"]);
  });
});

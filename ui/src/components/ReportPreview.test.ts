import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen } from "@testing-library/svelte";
import ReportPreview from "./ReportPreview.svelte";
import type { ServiceReport } from "../lib/bindings/ServiceReport";

afterEach(cleanup);

const report: ServiceReport = {
  lang: "ru",
  company: "ООО «Сервис-Центр»",
  number: "T-2026-000042",
  title: "Array degraded",
  client: "АО «Северный банк»",
  site: "Серверная",
  address: "Новосибирск, Красный пр. 1",
  contact: "",
  time_zone: "Asia/Novosibirsk",
  equipment: [{ vendor: "Huawei", model: "OceanStor 5300", serial: "SN-1" }],
  description: "",
  work: [{ at: "2026-12-03 10:15", by: "Сергей", text: "Заменён диск" }],
  resolution_code: "replaced",
  resolution: "Диск заменён",
  checklist: [{ label: "Питание", done: true }, { label: "Журналы", done: false }],
  visits: [],
  minutes_on_site: 75,
  minutes_travel: 30,
  minutes_work: 60,
  parts: [{ part_number: "02351LWK", description: "Диск", quantity: 1, status: "installed", installed_serial: "NEW1", removed_serial: "OLD1" }],
  photos: [],
  points_charged: null,
  points_estimate: null,
  engineer: "Сергей Кузнецов",
  signature: null,
};

describe("the service report preview", () => {
  it("shows the customer what the report will say", () => {
    render(ReportPreview, { report, hash: "ab".repeat(32) });
    const shown = screen.getByTestId("report-preview").textContent ?? "";
    for (const words of ["T-2026-000042", "АО «Северный банк»", "OceanStor 5300 · SN-1", "Заменён диск", "✗ Журналы", "+NEW1", "−OLD1", "Сергей Кузнецов"]) {
      expect(shown).toContain(words);
    }
    expect(screen.getByTestId("report-hash").textContent).toContain("ab".repeat(32));
  });
});

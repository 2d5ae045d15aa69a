import { describe, expect, it } from "vitest";
import { countdown, span, todayRange } from "./time";

describe("deadlines", () => {
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);

  it("counts down, in amber under two hours, red once breached", () => {
    expect(countdown(now + 5 * 3_600_000 + 60_000, now, "en")).toEqual({ breached: false, soon: false, text: "5 h 01 min" });
    expect(countdown(now + 90 * 60_000, now, "en")).toEqual({ breached: false, soon: true, text: "1 h 30 min" });
    expect(countdown(now - 3 * 86_400_000 - 2 * 3_600_000, now, "ru")).toEqual({ breached: true, soon: false, text: "3 д 2 ч" });
    expect(countdown(null, now, "en")).toBeNull();
  });

  it("writes short spans in seconds and minutes", () => {
    expect(span(45_000, "en")).toBe("45 s");
    expect(span(12 * 60_000, "ru")).toBe("12 мин");
  });

  it("gives today as one local day", () => {
    const [start, end] = todayRange(new Date(2026, 10, 22, 15, 30));
    expect(new Date(start).getHours()).toBe(0);
    expect(end - start).toBeGreaterThanOrEqual(23 * 3_600_000);
    expect(end - start).toBeLessThanOrEqual(25 * 3_600_000);
  });
});

// Deadlines and times for people: countdowns, local times.
import type { Language } from "./i18n";

/** "2 h 05 min", "3 d 4 h", "45 s" for a span of milliseconds. */
export function span(ms: number, language: Language): string {
  const u = language === "ru" ? { d: "д", h: "ч", m: "мин", s: "с" } : { d: "d", h: "h", m: "min", s: "s" };
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  if (days > 0) return `${days} ${u.d} ${hours} ${u.h}`;
  if (hours > 0) return `${hours} ${u.h} ${String(minutes).padStart(2, "0")} ${u.m}`;
  if (minutes > 0) return `${minutes} ${u.m}`;
  return `${total % 60} ${u.s}`;
}

export interface Countdown {
  breached: boolean;
  text: string;
  /** Under two hours left: show it in amber. */
  soon: boolean;
}

/** How a deadline stands at `now`; `null` when there is none. */
export function countdown(due: number | null, now: number, language: Language): Countdown | null {
  if (due === null) return null;
  const left = due - now;
  return { breached: left < 0, soon: left >= 0 && left < 2 * 3_600_000, text: span(left, language) };
}

/** A UTC millisecond time in the user's local time zone. */
export function localTime(ms: number, language: Language): string {
  return new Date(ms).toLocaleString(language === "ru" ? "ru-RU" : "en-GB", {
    dateStyle: "short",
    timeStyle: "short",
  });
}

/** Today in local time as [start, end) in UTC milliseconds. */
export function todayRange(now: Date): [number, number] {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const end = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1).getTime();
  return [start, end];
}

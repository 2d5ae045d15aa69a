// What the user chose (language, theme) and where they are in the app.
import { systemLanguage, translate, type Key, type Language } from "./i18n";

export type Theme = "light" | "dark";
export type Screen =
  | { name: "tickets" }
  | { name: "ticket"; id: string }
  | { name: "parts" }
  | { name: "equipment"; id?: string }
  | { name: "kb"; id?: string }
  | { name: "sync" }
  | { name: "settings" };

function stored<T extends string>(key: string, allowed: readonly T[]): T | null {
  try {
    const value = localStorage.getItem(key);
    return allowed.includes(value as T) ? (value as T) : null;
  } catch {
    return null;
  }
}

function systemTheme(): Theme {
  return typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export const settings = $state({
  language: stored<Language>("outpost.language", ["en", "ru"]) ?? systemLanguage(navigator.languages ?? []),
  theme: stored<Theme>("outpost.theme", ["light", "dark"]) ?? systemTheme(),
});

export const nav = $state<{ screen: Screen }>({ screen: { name: "tickets" } });

export function setLanguage(language: Language) {
  settings.language = language;
  localStorage.setItem("outpost.language", language);
}

export function setTheme(theme: Theme) {
  settings.theme = theme;
  localStorage.setItem("outpost.theme", theme);
}

export function go(screen: Screen) {
  nav.screen = screen;
}

/** Translates in the current language. */
export function t(key: Key, values?: Record<string, string | number>): string {
  return translate(settings.language, key, values);
}

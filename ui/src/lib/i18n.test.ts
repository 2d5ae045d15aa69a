import { describe, expect, it } from "vitest";
import { dictionaries, systemLanguage, translate } from "./i18n";

describe("translations", () => {
  it("has every English text in Russian too, and no empty ones", () => {
    const en = Object.keys(dictionaries.en).sort();
    expect(Object.keys(dictionaries.ru).sort()).toEqual(en);
    for (const language of ["en", "ru"] as const) {
      for (const [key, text] of Object.entries(dictionaries[language])) {
        expect(text.trim(), `${language} ${key}`).not.toBe("");
      }
    }
  });

  it("keeps the same placeholders in both languages", () => {
    const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(dictionaries.en) as (keyof typeof dictionaries.en)[]) {
      expect(placeholders(dictionaries.ru[key]), key).toEqual(placeholders(dictionaries.en[key]));
    }
  });

  it("follows the system language and falls back to English", () => {
    expect(systemLanguage(["ru-RU", "en-US"])).toBe("ru");
    expect(systemLanguage(["de-DE", "en-GB"])).toBe("en");
    expect(systemLanguage(["fr"])).toBe("en");
    expect(systemLanguage([])).toBe("en");
  });

  it("fills placeholders", () => {
    expect(translate("ru", "sync.pending", { docs: 2, files: 1 })).toBe("Ждут отправки: записей 2, файлов 1");
    expect(translate("en", "due.left", { t: "1 h" })).toBe("1 h left");
  });
});

// The one way the UI reaches the app's core: typed calls by domain, over
// Tauri's IPC. Types come from the Rust side (src/lib/bindings, by ts-rs).
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { Article } from "./bindings/Article";
import type { ArticleRow } from "./bindings/ArticleRow";
import type { AttachedPhoto } from "./bindings/AttachedPhoto";
import type { AttachedReport } from "./bindings/AttachedReport";
import type { DeviceEvent } from "./bindings/DeviceEvent";
import type { DeviceStatus } from "./bindings/DeviceStatus";
import type { EquipmentDetail } from "./bindings/EquipmentDetail";
import type { EquipmentRow } from "./bindings/EquipmentRow";
import type { ErrorKind } from "./bindings/ErrorKind";
import type { NewTicketInput } from "./bindings/NewTicketInput";
import type { Notice } from "./bindings/Notice";
import type { PairingInfo } from "./bindings/PairingInfo";
import type { PartAction } from "./bindings/PartAction";
import type { PartRequestRow } from "./bindings/PartRequestRow";
import type { Readiness } from "./bindings/Readiness";
import type { ServiceReport } from "./bindings/ServiceReport";
import type { TicketAction } from "./bindings/TicketAction";
import type { TicketDetail } from "./bindings/TicketDetail";
import type { TicketFilter } from "./bindings/TicketFilter";
import type { TicketRow } from "./bindings/TicketRow";

/** What every failed call rejects with; switch on `type`, never on `message`. */
export interface UiError {
  type: ErrorKind;
  message: string;
}

export function isUiError(value: unknown): value is UiError {
  return typeof value === "object" && value !== null && "type" in value && "message" in value;
}

/** Turns whatever a call rejected with into a UiError. */
export function asUiError(value: unknown): UiError {
  if (isUiError(value)) return value;
  return { type: "internal", message: String(value) };
}

/** Runs `edit`; resolves to the error it failed with, or null. */
export async function attempt(edit: () => Promise<unknown>): Promise<UiError | null> {
  try {
    await edit();
    return null;
  } catch (err) {
    return asUiError(err);
  }
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (err) {
    throw asUiError(err);
  }
}

async function callWithBytes<T>(command: string, bytes: Uint8Array, headers: Record<string, string>): Promise<T> {
  try {
    return await invoke<T>(command, bytes, { headers });
  } catch (err) {
    throw asUiError(err);
  }
}

export const device = {
  pairing: () => call<PairingInfo | null>("pairing"),
  pair: (deskUrl: string, code: string, deviceName: string) =>
    call<PairingInfo>("pair", { deskUrl, code, deviceName }),
  status: () => call<DeviceStatus>("status"),
  signOut: (discardUnsynced: boolean) => call<void>("sign_out", { discardUnsynced }),
};

export const tickets = {
  list: (filter: Partial<TicketFilter>) => call<TicketRow[]>("tickets", { filter }),
  show: (id: string) => call<TicketDetail>("ticket", { id }),
  act: (id: string, action: TicketAction) => call<void>("act", { id, action }),
  create: (ticket: Partial<NewTicketInput> & { title: string }) =>
    call<[string, string]>("create_ticket", { ticket }),
  attachPhoto: (ticket: string, bytes: Uint8Array, name: string, keepLocation: boolean) =>
    callWithBytes<AttachedPhoto>("attach_photo", bytes, {
      "x-ticket": ticket,
      "x-name": encodeURIComponent(name),
      "x-keep-location": String(keepLocation),
    }),
  sign: (ticket: string, png: Uint8Array, signer: string) =>
    callWithBytes<string>("sign", png, { "x-ticket": ticket, "x-signer": encodeURIComponent(signer) }),
  /** A photo, thumbnail or signature as an object URL for an <img>. */
  async blobUrl(hash: string, mime = "image/jpeg"): Promise<string> {
    const bytes = await call<ArrayBuffer>("blob", { hash });
    return URL.createObjectURL(new Blob([bytes], { type: mime }));
  },
};

/** The service report (акт): what it shows, and attaching it once signed. */
export const reports = {
  /** `lang`: null writes in the client's language. */
  preview: (ticket: string, lang: string | null) => call<ServiceReport>("report_preview", { ticket, lang }),
  attach: (ticket: string, lang: string | null) => call<AttachedReport>("attach_report", { ticket, lang }),
};

export const parts = {
  mine: () => call<PartRequestRow[]>("my_part_requests"),
  request: (ticket: string, partNumber: string, description: string, quantity: number) =>
    call<string>("request_part", { ticket, partNumber, description, quantity }),
  act: (id: string, action: PartAction) => call<void>("act_on_part_request", { id, action }),
};

export const equipment = {
  bySerial: (serial: string) => call<EquipmentRow[]>("equipment_by_serial", { serial }),
  search: (text: string) => call<EquipmentRow[]>("search_equipment", { text }),
  show: (id: string) => call<EquipmentDetail>("equipment", { id }),
};

export const kb = {
  search: (search: string) => call<ArticleRow[]>("articles", { search }),
  show: (id: string) => call<Article>("article", { id }),
};

export const sync = {
  now: () => call<void>("sync_now"),
  /** What the open tickets' visits lack on this device (`day`: today's only). */
  readiness: (day: [number, number] | null) => call<Readiness>("readiness", { day }),
  fetchMissing: (day: [number, number] | null) => call<Readiness>("fetch_missing", { day }),
  networkUp: () => call<void>("network_up"),
  notices: () => call<Notice[]>("notices"),
  /** Device events: sync progress, connectivity, changes, wipe. */
  onEvent: (handler: (event: DeviceEvent) => void): Promise<UnlistenFn> =>
    listen<DeviceEvent>("outpost://event", (e) => handler(e.payload)),
};

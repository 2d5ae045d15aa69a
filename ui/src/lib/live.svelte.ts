// What the device is doing right now: pairing, sync, connectivity; kept
// current from the core's events.
import { device, sync } from "./api";
import type { DeviceStatus } from "./bindings/DeviceStatus";
import type { PairingInfo } from "./bindings/PairingInfo";
import type { SyncProgress } from "./bindings/SyncProgress";

export const live = $state({
  pairing: null as PairingInfo | null,
  loaded: false,
  status: null as DeviceStatus | null,
  progress: null as SyncProgress | null,
  online: null as boolean | null,
  /** The desk's live channel, as last heard; null until the core says. */
  channel: null as boolean | null,
  /** Bumped when documents change here or at the desk: screens reload. */
  revision: 0,
  wiped: false,
  now: Date.now(),
});

/** Whether the desk's live channel is open: the latest event, else the status. */
export function isLive(): boolean {
  return live.channel ?? live.status?.live ?? false;
}

/** Whether the desk answered last time: the loop's latest word, else the store's. */
export function isOnline(): boolean {
  return live.online ?? !(live.status?.offline ?? false);
}

export async function refreshStatus() {
  live.status = await device.status();
  live.pairing = live.status.paired;
  live.loaded = true;
}

/** Starts listening to the core; returns a function that stops it. */
export async function startLive(): Promise<() => void> {
  const unlisten = await sync.onEvent((event) => {
    switch (event.type) {
      case "local_change":
      case "remote_change":
        live.revision += 1;
        void refreshStatus();
        break;
      case "sync_progress":
        live.progress = event;
        if (event.done) void refreshStatus();
        break;
      case "connectivity":
        live.online = event.online;
        break;
      case "live":
        live.channel = event.connected;
        break;
      case "wiped":
        live.wiped = true;
        live.pairing = null;
        live.revision += 1;
        break;
    }
  });
  const tick = setInterval(() => (live.now = Date.now()), 1000);
  const online = () => void sync.networkUp();
  window.addEventListener("online", online);
  await refreshStatus();
  return () => {
    unlisten();
    clearInterval(tick);
    window.removeEventListener("online", online);
  };
}

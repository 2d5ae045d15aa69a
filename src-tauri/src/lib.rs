//! The Outpost app's shell: Tauri commands, each a line or two over
//! `outpost_core::Device`, and the device's events forwarded to the window.
//!
//! The store lives in the platform's app data directory, or in
//! `$OUTPOST_DATA_DIR` when set (the run script and the UI tests use it).

mod commands;

use std::path::PathBuf;

use outpost_core::sync::{Schedule, SyncLoop, SyncLoopHandle};
use outpost_core::Device;
use tauri::{Emitter, Manager, Runtime};

/// What every command reaches: the device and its background sync.
pub struct AppState {
    device: Device,
    sync: SyncLoopHandle,
}

/// The window hears of device events under this name.
pub const EVENT: &str = "outpost://event";

fn data_dir<R: Runtime>(app: &tauri::App<R>) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(dir) = std::env::var_os("OUTPOST_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    Ok(app.path().app_data_dir()?)
}

/// Builds the app on any runtime (tests pass a mock one).
pub fn build_app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .setup(|app| {
            let dir = data_dir(app)?;
            let device = tauri::async_runtime::block_on(Device::open(&dir))?;
            let handle = app.handle().clone();
            let mut events = device.events();
            tauri::async_runtime::spawn(async move {
                loop {
                    match events.recv().await {
                        Ok(event) => {
                            let _ = handle.emit(EVENT, &event);
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
            let sync = tauri::async_runtime::block_on(async { SyncLoop::spawn(device.clone(), Schedule::default()) });
            app.manage(AppState { device, sync });
            Ok(())
        })
        .invoke_handler(commands::handler())
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_env("OUTPOST_LOG")).init();
    build_app(tauri::Builder::default()).run(tauri::generate_context!()).expect("the Outpost window could not start");
}

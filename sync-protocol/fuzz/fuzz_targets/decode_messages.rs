//! Untrusted bytes into every decoder: no panic, no allocation past the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outpost_sync::limits::WireLimits;
use outpost_sync::session::read_changes;
use outpost_sync::wire::{ClientMessage, ServerMessage};

fuzz_target!(|bytes: &[u8]| {
    let limits = WireLimits::default();
    if let Ok(message) = ClientMessage::decode(bytes, &limits) {
        // What decodes must encode to something that decodes the same.
        let again = ClientMessage::decode(&message.encode(), &limits).expect("a decoded request re-encodes");
        assert_eq!(again, message);
    }
    if let Ok(message) = ServerMessage::decode(bytes, &limits) {
        let again = ServerMessage::decode(&message.encode(), &limits).expect("a decoded response re-encodes");
        assert_eq!(again, message);
    }
    let _ = read_changes(bytes, 1_000);
});

//! The memory the real-time event connection keeps: its ring of recent
//! events holds about its byte budget (4 MiB) of them, however the
//! gateway shapes them. A number in an array is two bytes of text and
//! far more once parsed. The allocator of this test binary counts the
//! bytes in use.
#![cfg(feature = "websocket")]

mod common;
mod fault_server;
mod gateway_support;
mod ws_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::sandbox_json;
use daytona::{Daytona, DaytonaConfig};
use gateway_support::{Gateway, Mode, KEY};
use serde_json::json;

/// The system allocator, counting the bytes in use.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator as it came.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size(), Ordering::SeqCst);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Ordering::SeqCst);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: usize = 1 << 20;

#[test]
fn events_kept_for_waits_take_about_their_budget() {
    let state = Arc::new(Mutex::new("stopped".to_string()));
    let rest_state = state.clone();
    let gw = Gateway::start(Mode::Normal, move |_| {
        let state = rest_state.lock().unwrap().clone();
        (200, sandbox_json("sb-1", &state).to_string())
    });
    let daytona = Daytona::new(
        DaytonaConfig::new()
            .read_env(false)
            .api_key(KEY)
            .api_url(&gw.api_url)
            .retry_policy(common::fast_retries()),
    )
    .unwrap();
    let mut sb = daytona.get("sb-1").unwrap();
    // Twelve changes of other sandboxes, each under 1 MiB of text made of
    // small numbers, then the change the wait is for: once it is heard,
    // all of them have been.
    let numbers = vec![0u8; 400_000];
    for n in 0..12 {
        let sandbox = json!({"id": format!("other-{n}"), "state": "started", "numbers": numbers});
        let event = json!({"sandbox": sandbox, "oldState": "stopped", "newState": "started"});
        gw.emit("sandbox.state.updated", event);
    }
    drop(numbers);
    // The gateway keeps the text of what it sends: counted from here.
    let before = IN_USE.load(Ordering::SeqCst);
    let emitter = std::thread::spawn({
        let gw = Arc::new(gw);
        let state = state.clone();
        move || {
            std::thread::sleep(Duration::from_millis(500));
            *state.lock().unwrap() = "started".into();
            gw.emit(
                "sandbox.state.updated",
                json!({"sandbox": sandbox_json("sb-1", "started"), "oldState": "stopped", "newState": "started"}),
            );
            gw
        }
    });
    sb.start().unwrap();
    let kept = IN_USE.load(Ordering::SeqCst).saturating_sub(before);
    // The client's ring (4 MiB), the buffers of a message on either side
    // (1 MiB each) and some slack.
    assert!(kept < 12 * MIB, "{} MiB in use", kept / MIB);
    drop(emitter.join().unwrap());
}

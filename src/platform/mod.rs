//! What differs between the desktop and the browser, and the only place that names a target:
//! the async runtime, file reads, the WebSocket, Bevy's default plugins and the page's shims.

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub use web::*;

/// What a [`Socket`] reports, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketEvent {
    Open,
    Text(String),
    Binary(Vec<u8>),
    /// The connection failed or ended, with the reason.
    Closed(String),
}

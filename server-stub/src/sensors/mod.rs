//! Sensors: the deterministic simulator, the live state it updates each second, the
//! SensorThings API over it, and the live WebSocket stream.

pub mod live;
pub mod sim;
pub mod sta;

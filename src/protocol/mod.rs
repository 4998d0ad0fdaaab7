//! citytwin-protocol: wire formats shared by the data server and the viewer: the layer catalog,
//! sensor kinds, the live stream's messages, the road graph and emergency drills. Engine-free serde types only;
//! its own crate so that the server needs no other part of citytwin.

pub mod catalog;
pub mod drill;
pub mod live;
pub mod live_binary;
pub mod roads;
pub mod sensors;

//! The OGC SensorThings API v1.1 request language, engine-free and I/O-free: what the data server
//! parses from every `/v1.1` request before it touches any data, and what the fuzzers exercise
//! without building the server.

pub mod filter;
pub mod request;

//! Prometheus metrics (`/metrics`, text format).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub class: String,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<StatusLabels, Counter>,
    pub ws_clients: Gauge,
    pub ws_messages: Counter,
    pub ws_bytes: Counter,
    pub alarms: Counter,
    pub observations: Counter,
    pub sensors: Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("citytwin");
        let m = Metrics {
            http_requests: Family::default(),
            ws_clients: Gauge::default(),
            ws_messages: Counter::default(),
            ws_bytes: Counter::default(),
            alarms: Counter::default(),
            observations: Counter::default(),
            sensors: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("http_requests", "HTTP responses by status class", m.http_requests.clone());
        registry.register("live_clients", "Open live WebSocket connections", m.ws_clients.clone());
        registry.register("live_messages", "Live messages sent", m.ws_messages.clone());
        registry.register("live_bytes", "Live message bytes sent", m.ws_bytes.clone());
        registry.register("alarm_events", "Alarm events raised or cleared", m.alarms.clone());
        registry.register("observations_written", "Observations written to the history", m.observations.clone());
        registry.register("sensors", "Simulated sensors", m.sensors.clone());
        Metrics { registry, ..m }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

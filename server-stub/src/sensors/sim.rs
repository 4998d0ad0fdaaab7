//! The sensor simulator: deterministic placement and readings, as pure functions of the seed,
//! the sensor and the time (daily cycles, tides, rush hours, noise, and injected anomalies that
//! cross alarm thresholds), plus the live state the ticker updates.

use std::sync::RwLock;

use citytwin_protocol::roads::RoadGraph;
use citytwin_protocol::sensors::{AlarmLevel, SensorKind};

use crate::config::SensorConfig;

/// One simulated sensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensor {
    pub kind: SensorKind,
    pub lon_deg: f64,
    pub lat_deg: f64,
    pub interval_s: u32,
    pub phase_s: u32,
    /// Per-sensor scale (traffic capacity, base level, …).
    pub scale: f32,
    pub seed: u64,
}

/// SplitMix64: a fast, well-mixed hash of one word.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash mapped to [0, 1).
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Kinds in proportion: traffic and air quality most, gas pipelines fewest.
fn kind_for(h: u64) -> SensorKind {
    match h % 20 {
        0..=4 => SensorKind::TrafficFlow,
        5..=8 => SensorKind::Pm25,
        9..=11 => SensorKind::Noise,
        12..=14 => SensorKind::ParkingOccupancy,
        15..=17 => SensorKind::WaterLevel,
        _ => SensorKind::GasPressure,
    }
}

/// Places `cfg.count` sensors: along the roads of `roads` when given (gas pipelines under the
/// major roads), else scattered within `radius_m` of the centre.
pub fn place(cfg: &SensorConfig, roads: Option<&RoadGraph>) -> Vec<Sensor> {
    let [lo, hi] = cfg.report_interval_s;
    let usable = roads.filter(|g| !g.edges.is_empty());
    (0..cfg.count)
        .map(|i| {
            let h = mix(cfg.seed ^ mix(i as u64));
            let mut kind = kind_for(h);
            let (lon_deg, lat_deg) = match usable {
                Some(g) => {
                    let mut e = &g.edges[(mix(h) % g.edges.len() as u64) as usize];
                    if kind == SensorKind::GasPressure && !matches!(e.class.as_str(), "primary" | "secondary" | "trunk")
                    {
                        kind = SensorKind::Noise;
                    }
                    if kind == SensorKind::TrafficFlow
                        && matches!(e.class.as_str(), "footway" | "steps" | "path" | "cycleway")
                    {
                        e = &g.edges[(mix(h ^ 1) % g.edges.len() as u64) as usize];
                    }
                    let (a, b) = (&g.nodes[e.from], &g.nodes[e.to]);
                    let t = unit(mix(h ^ 2));
                    (a.lon_deg + (b.lon_deg - a.lon_deg) * t, a.lat_deg + (b.lat_deg - a.lat_deg) * t)
                }
                None => {
                    let (r, a) = (cfg.radius_m * unit(mix(h ^ 3)).sqrt(), std::f64::consts::TAU * unit(mix(h ^ 4)));
                    let m_per_deg_lat = 111_320.0;
                    let m_per_deg_lon = m_per_deg_lat * cfg.center_deg[1].to_radians().cos().max(0.01);
                    (cfg.center_deg[0] + r * a.cos() / m_per_deg_lon, cfg.center_deg[1] + r * a.sin() / m_per_deg_lat)
                }
            };
            let interval_s = lo + (mix(h ^ 5) % (hi - lo + 1) as u64) as u32;
            Sensor {
                kind,
                lon_deg,
                lat_deg,
                interval_s,
                phase_s: (mix(h ^ 6) % interval_s as u64) as u32,
                scale: (0.6 + 0.8 * unit(mix(h ^ 7))) as f32,
                seed: h,
            }
        })
        .collect()
}

impl Sensor {
    /// The time of the report in effect at `t_s` (Unix seconds).
    pub fn report_time(&self, t_s: i64) -> i64 {
        let (i, p) = (self.interval_s as i64, self.phase_s as i64);
        (t_s - p).div_euclid(i) * i + p
    }

    /// True when the sensor reports at exactly `t_s`.
    pub fn reports_at(&self, t_s: i64) -> bool {
        (t_s - self.phase_s as i64).rem_euclid(self.interval_s as i64) == 0
    }

    /// The anomaly strength (0..1) at `t_s`: each sensor has, per six-hour window, a small chance of
    /// an episode of 10–40 minutes that ramps up and down.
    fn anomaly(&self, t_s: i64) -> f64 {
        const WINDOW: i64 = 6 * 3600;
        let w = t_s.div_euclid(WINDOW);
        let h = mix(self.seed ^ mix(w as u64));
        if unit(h) > 0.04 {
            return 0.0;
        }
        let duration = 600.0 + 1800.0 * unit(mix(h ^ 1));
        let start = (WINDOW as f64 - duration) * unit(mix(h ^ 2));
        let x = (t_s - w * WINDOW) as f64 - start;
        if !(0.0..duration).contains(&x) {
            0.0
        } else {
            (std::f64::consts::PI * x / duration).sin().clamp(0.0, 1.0).sqrt()
        }
    }

    /// The reading at the report in effect at `t_s`.
    pub fn value(&self, t_s: i64) -> f64 {
        let t = self.report_time(t_s);
        let noise = 2.0 * unit(mix(self.seed ^ mix(t as u64))) - 1.0;
        // Local solar hour.
        let hour = (t as f64 / 3600.0 + self.lon_deg / 15.0).rem_euclid(24.0);
        let rush = (-((hour - 8.0) / 1.5).powi(2)).exp() + (-((hour - 17.5) / 1.8).powi(2)).exp();
        let day = 0.5 - 0.5 * (std::f64::consts::TAU * (hour - 3.0) / 24.0).cos();
        let s = self.scale as f64;
        let a = self.anomaly(t);
        let v = match self.kind {
            SensorKind::WaterLevel => {
                let tide = (std::f64::consts::TAU * t as f64 / (12.42 * 3600.0) + s * 10.0).sin();
                0.8 + 0.4 * tide + 0.05 * noise + 2.2 * a
            }
            SensorKind::GasPressure => 400.0 + 8.0 * day + 3.0 * noise - 150.0 * a,
            SensorKind::Pm25 => 12.0 + 10.0 * s + 14.0 * rush + 4.0 * noise + 70.0 * a,
            SensorKind::TrafficFlow => 600.0 * s * (0.15 + 0.9 * rush + 0.3 * day) + 40.0 * noise + 1400.0 * a,
            SensorKind::ParkingOccupancy => {
                (100.0 * (0.2 + 0.65 * day) * (0.7 + 0.3 * s) + 5.0 * noise + 100.0 * a).clamp(0.0, 100.0)
            }
            SensorKind::Noise => 50.0 + 4.0 * s + 12.0 * day + 3.0 * noise + 30.0 * a,
        };
        v.max(0.0)
    }
}

/// A grid over the sensors for bbox queries.
pub struct Grid {
    min: [f64; 2],
    cell_deg: f64,
    cols: usize,
    rows: usize,
    cells: Vec<Vec<u32>>,
}

impl Grid {
    pub fn new(sensors: &[Sensor]) -> Grid {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for s in sensors {
            lo = [lo[0].min(s.lon_deg), lo[1].min(s.lat_deg)];
            hi = [hi[0].max(s.lon_deg), hi[1].max(s.lat_deg)];
        }
        if sensors.is_empty() {
            (lo, hi) = ([0.0; 2], [0.0; 2]);
        }
        let cell_deg = 0.005;
        let cols = (((hi[0] - lo[0]) / cell_deg) as usize + 1).min(4096);
        let rows = (((hi[1] - lo[1]) / cell_deg) as usize + 1).min(4096);
        let cell_deg = cell_deg.max((hi[0] - lo[0]).max(hi[1] - lo[1]) / 4095.0);
        let mut grid = Grid { min: lo, cell_deg, cols, rows, cells: vec![Vec::new(); cols * rows] };
        for (i, s) in sensors.iter().enumerate() {
            let c = grid.cell(s.lon_deg, s.lat_deg);
            grid.cells[c].push(i as u32);
        }
        grid
    }

    fn col_row(&self, lon: f64, lat: f64) -> (usize, usize) {
        let c = ((lon - self.min[0]) / self.cell_deg).floor().clamp(0.0, (self.cols - 1) as f64) as usize;
        let r = ((lat - self.min[1]) / self.cell_deg).floor().clamp(0.0, (self.rows - 1) as f64) as usize;
        (c, r)
    }

    fn cell(&self, lon: f64, lat: f64) -> usize {
        let (c, r) = self.col_row(lon, lat);
        r * self.cols + c
    }

    /// Sensors within `[west, south, east, north]`, in index order.
    pub fn query(&self, sensors: &[Sensor], bbox: [f64; 4]) -> Vec<u32> {
        let [w, s, e, n] = bbox;
        if !(w <= e && s <= n) {
            return Vec::new();
        }
        let (c0, r0) = self.col_row(w, s);
        let (c1, r1) = self.col_row(e, n);
        let mut out: Vec<u32> = (r0..=r1)
            .flat_map(|r| (c0..=c1).map(move |c| r * self.cols + c))
            .flat_map(|cell| self.cells[cell].iter().copied())
            .filter(|i| {
                let x = &sensors[*i as usize];
                (w..=e).contains(&x.lon_deg) && (s..=n).contains(&x.lat_deg)
            })
            .collect();
        out.sort_unstable();
        out
    }
}

/// Latest readings, as the ticker leaves them each second.
pub struct LiveState {
    pub inner: RwLock<Readings>,
}

pub struct Readings {
    /// The second of the last tick (Unix seconds).
    pub now_s: i64,
    pub value: Vec<f32>,
    pub level: Vec<AlarmLevel>,
    /// The tick (Unix seconds) at which each sensor's value last changed.
    pub changed_s: Vec<i64>,
}

impl LiveState {
    /// The state at `now_s`, every sensor at its current report.
    pub fn new(sensors: &[Sensor], now_s: i64) -> LiveState {
        let value: Vec<f32> = sensors.iter().map(|s| s.value(now_s) as f32).collect();
        let level = sensors.iter().zip(&value).map(|(s, v)| s.kind.level(*v as f64)).collect();
        let changed_s = sensors.iter().map(|s| s.report_time(now_s)).collect();
        LiveState { inner: RwLock::new(Readings { now_s, value, level, changed_s }) }
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Readings> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Advances to `now_s`: sensors that reported since the last tick get their new value.
    /// Returns `(sensor, previous level, new level, value)` for every level change.
    pub fn tick(&self, sensors: &[Sensor], now_s: i64) -> Vec<(u32, AlarmLevel, AlarmLevel, f32)> {
        let mut r = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let from = r.now_s;
        let mut changes = Vec::new();
        if now_s <= from {
            return changes;
        }
        for (i, s) in sensors.iter().enumerate() {
            let report = s.report_time(now_s);
            if report <= from {
                continue;
            }
            let v = s.value(now_s) as f32;
            let level = s.kind.level(v as f64);
            if level != r.level[i] {
                changes.push((i as u32, r.level[i], level, v));
            }
            r.value[i] = v;
            r.level[i] = level;
            r.changed_s[i] = now_s;
        }
        r.now_s = now_s;
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(count: usize) -> SensorConfig {
        SensorConfig { count, ..Default::default() }
    }

    #[test]
    fn placement_and_values_are_deterministic() {
        let a = place(&cfg(2000), None);
        assert_eq!(a, place(&cfg(2000), None));
        for k in SensorKind::ALL {
            assert!(a.iter().any(|s| s.kind == k), "{k:?}");
        }
        let t = 1_763_700_000;
        // Readings are a pure function of seed, sensor and time: a second placement reads the same,
        // and they are not one constant.
        let b = place(&cfg(2000), None);
        let readings = |s: &[Sensor]| s.iter().map(|x| x.value(t).to_bits()).collect::<Vec<_>>();
        assert_eq!(readings(&a), readings(&b));
        let distinct: std::collections::HashSet<_> = readings(&a).into_iter().collect();
        assert!(distinct.len() > 1000, "{} distinct readings of 2000", distinct.len());
        // Between reports the value holds; at a report it may change.
        let s = &a[7];
        let r = s.report_time(t);
        assert_eq!(s.value(r), s.value(r + s.interval_s as i64 - 1));
        assert!(s.reports_at(r) && !s.reports_at(r + 1) || s.interval_s == 1);
    }

    #[test]
    fn anomalies_raise_alarms_and_clear_again_over_a_day() {
        let sensors = place(&cfg(500), None);
        let t0 = 1_763_700_000;
        let state = LiveState::new(&sensors, t0);
        let mut raised = 0;
        let mut cleared = 0;
        for t in (t0 + 1..t0 + 86_400).step_by(7) {
            for (_, before, after, _) in state.tick(&sensors, t) {
                if after == AlarmLevel::Alarm {
                    raised += 1;
                }
                if before == AlarmLevel::Alarm {
                    cleared += 1;
                }
            }
        }
        assert!(raised >= 10, "{raised} alarms raised in a day by 500 sensors");
        assert!(cleared as f64 >= 0.8 * raised as f64, "{cleared} of {raised} cleared");
    }

    #[test]
    fn grid_queries_match_a_scan() {
        let sensors = place(&cfg(5000), None);
        let grid = Grid::new(&sensors);
        let bbox = [114.04, 22.53, 114.06, 22.55];
        let scan: Vec<u32> = (0..sensors.len() as u32)
            .filter(|i| {
                let s = &sensors[*i as usize];
                (bbox[0]..=bbox[2]).contains(&s.lon_deg) && (bbox[1]..=bbox[3]).contains(&s.lat_deg)
            })
            .collect();
        assert!(!scan.is_empty());
        assert_eq!(grid.query(&sensors, bbox), scan);
        assert!(grid.query(&sensors, [1.0, 1.0, 0.0, 0.0]).is_empty(), "inverted bbox");
    }
}

//! Sensor sites in spatial chunks: one chunk per sensor kind and grid cell ([`CELL_DEG`] square),
//! holding one instance per sensor (its offset from the chunk's origin in the chunk's
//! east-north-up metres, its colour and whether it pulses). Readings update instances in place and
//! mark their chunk changed, so the engine re-uploads only those chunks.

use std::collections::HashMap;

use glam::{DMat4, DVec3, Mat4, Vec3};

use super::cluster::{Detail, cluster_offset_m, cluster_scale};
use super::ramp::{cluster_color, marker_color};
use crate::geo::{Cartographic, WGS84, ecef_from_enu};
use crate::protocol::live::{Reading, Site};
use crate::protocol::sensors::{AlarmLevel, SensorKind};

/// A chunk's side, in degrees (about 1.1 km north–south).
pub const CELL_DEG: f64 = 0.01;
/// The most sensors tracked: indices at or above it are refused (the server's own limit is lower).
pub const MAX_SENSORS: u32 = 4_000_000;
/// A marker before its first reading.
const UNREAD_SRGB: [f32; 3] = [0.6, 0.6, 0.6];

/// One marker as the GPU reads it (32 bytes, no padding).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MarkerInstance {
    /// From the chunk's origin, in its east-north-up metres.
    pub offset_m: [f32; 3],
    /// The symbol's size relative to one sensor's.
    pub scale: f32,
    pub color_srgb: [f32; 3],
    /// 1 pulses (an alarm), 0 does not.
    pub pulse: f32,
}

/// A chunk: one sensor kind in one grid cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkKey {
    pub kind: SensorKind,
    pub col: i32,
    pub row: i32,
}

impl ChunkKey {
    pub fn of(kind: SensorKind, lon_deg: f64, lat_deg: f64) -> Self {
        Self { kind, col: (lon_deg / CELL_DEG).floor() as i32, row: (lat_deg / CELL_DEG).floor() as i32 }
    }

    /// The cell's centre on the ellipsoid.
    pub fn center(&self) -> Cartographic {
        Cartographic::from_degrees((self.col as f64 + 0.5) * CELL_DEG, (self.row as f64 + 0.5) * CELL_DEG, 0.0)
    }
}

/// The markers of one chunk.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub key: ChunkKey,
    /// `ecef_from_chunk`: the chunk's east-north-up frame at its cell's centre.
    pub ecef_from_chunk: DMat4,
    chunk_from_ecef: DMat4,
    /// Sensor indices, in instance order.
    pub sensors: Vec<u32>,
    pub instances: Vec<MarkerInstance>,
    levels: Vec<AlarmLevel>,
    /// Sensors at each level: normal, warning, alarm.
    pub level_counts: [u32; 3],
    /// The sum of its markers' offsets (sites do not move).
    offset_sum: [f64; 3],
    /// Listed in the changes not taken yet.
    changed: bool,
}

impl Chunk {
    fn new(key: ChunkKey) -> Self {
        let ecef_from_chunk = ecef_from_enu(WGS84.ecef_from_cartographic(key.center()));
        Self {
            key,
            ecef_from_chunk,
            chunk_from_ecef: ecef_from_chunk.inverse(),
            sensors: Vec::new(),
            instances: Vec::new(),
            levels: Vec::new(),
            level_counts: [0; 3],
            offset_sum: [0.0; 3],
            changed: false,
        }
    }

    /// The worst level of its sensors.
    pub fn worst(&self) -> AlarmLevel {
        match self.level_counts {
            [_, _, a] if a > 0 => AlarmLevel::Alarm,
            [_, w, _] if w > 0 => AlarmLevel::Warning,
            _ => AlarmLevel::Normal,
        }
    }

    /// The mean of its markers' offsets (where its cluster stands).
    /// How many sensors it holds.
    pub fn sensor_count(&self) -> usize {
        self.sensors.len()
    }

    pub fn centroid_m(&self) -> [f32; 3] {
        let n = self.instances.len().max(1) as f64;
        self.offset_sum.map(|s| (s / n) as f32)
    }

    /// Its instances as drawn with `detail`, their centres moved by `frame_from_chunk` (the
    /// engine's render frame): every sensor, or one cluster symbol beside the centroid (see
    /// `cluster::cluster_offset_m`), sized by the count, coloured by the worst level, pulsing if
    /// any sensor is in alarm.
    pub fn drawn(&self, detail: Detail, frame_from_chunk: &Mat4) -> Vec<MarkerInstance> {
        let place = |offset: [f32; 3]| frame_from_chunk.transform_point3(Vec3::from(offset)).to_array();
        match detail {
            Detail::Sensors => {
                self.instances.iter().map(|i| MarkerInstance { offset_m: place(i.offset_m), ..*i }).collect()
            }
            Detail::Cluster => {
                let [r, g, b, _] = cluster_color(self.key.kind, self.worst());
                let [x, y, z] = self.centroid_m();
                let kind_index = SensorKind::ALL.iter().position(|k| *k == self.key.kind).unwrap_or(0);
                let [dx, dy] = cluster_offset_m(kind_index);
                vec![MarkerInstance {
                    offset_m: place([x + dx, y + dy, z]),
                    scale: cluster_scale(self.sensors.len()),
                    color_srgb: [r, g, b],
                    pulse: if self.level_counts[2] > 0 { 1.0 } else { 0.0 },
                }]
            }
        }
    }

    /// Where its sensors are: `(sensor, ECEF)` in instance order.
    pub fn sites_ecef(&self) -> impl Iterator<Item = (u32, DVec3)> + '_ {
        self.sensors.iter().enumerate().map(|(slot, s)| (*s, self.site_ecef(slot)))
    }

    fn site_ecef(&self, slot: usize) -> DVec3 {
        self.ecef_from_chunk.transform_point3(Vec3::from(self.instances[slot].offset_m).as_dvec3())
    }

    fn set_level(&mut self, slot: usize, level: AlarmLevel) {
        self.level_counts[self.levels[slot] as usize] -= 1;
        self.level_counts[level as usize] += 1;
        self.levels[slot] = level;
    }
}

/// Every known sensor's marker, by chunk.
#[derive(Debug, Default, Clone)]
pub struct MarkerChunks {
    chunks: Vec<Chunk>,
    by_key: HashMap<ChunkKey, usize>,
    /// Per sensor index: its chunk and slot.
    place: Vec<Option<(u32, u32)>>,
    /// Chunks changed since the changes were last taken, by index.
    changed: Vec<u32>,
}

impl MarkerChunks {
    /// Places a sensor; a sensor already placed, or an index past [`MAX_SENSORS`] or a site off
    /// the globe, is ignored (returns false).
    pub fn add_site(&mut self, &Site(sensor, kind, lon_deg, lat_deg, height_m): &Site) -> bool {
        let valid = sensor < MAX_SENSORS
            && (-180.0..=180.0).contains(&lon_deg)
            && (-90.0..=90.0).contains(&lat_deg)
            && height_m.is_finite();
        if !valid || self.place.get(sensor as usize).is_some_and(|p| p.is_some()) {
            return false;
        }
        let key = ChunkKey::of(kind, lon_deg, lat_deg);
        let index = *self.by_key.entry(key).or_insert_with(|| {
            self.chunks.push(Chunk::new(key));
            self.chunks.len() - 1
        });
        let chunk = &mut self.chunks[index];
        let ecef = WGS84.ecef_from_cartographic(Cartographic::from_degrees(lon_deg, lat_deg, height_m as f64));
        let offset = chunk.chunk_from_ecef.transform_point3(ecef).as_vec3().to_array();
        let [r, g, b] = UNREAD_SRGB;
        chunk.instances.push(MarkerInstance { offset_m: offset, scale: 1.0, color_srgb: [r, g, b], pulse: 0.0 });
        chunk.sensors.push(sensor);
        chunk.levels.push(AlarmLevel::Normal);
        chunk.level_counts[AlarmLevel::Normal as usize] += 1;
        for (sum, o) in chunk.offset_sum.iter_mut().zip(offset) {
            *sum += o as f64;
        }
        let slot = (chunk.instances.len() - 1) as u32;
        if self.place.len() <= sensor as usize {
            self.place.resize(sensor as usize + 1, None);
        }
        self.place[sensor as usize] = Some((index as u32, slot));
        self.mark_changed(index as u32);
        true
    }

    /// Applies a reading to its sensor's marker; a sensor not placed yet is ignored (false).
    pub fn set_reading(&mut self, &Reading(sensor, value, level): &Reading) -> bool {
        let Some(Some((chunk, slot))) = self.place.get(sensor as usize).copied() else { return false };
        let c = &mut self.chunks[chunk as usize];
        let slot = slot as usize;
        let [r, g, b, _] = marker_color(c.key.kind, value as f64, level);
        let marker = &mut c.instances[slot];
        let pulse = if level == AlarmLevel::Alarm { 1.0 } else { 0.0 };
        if marker.color_srgb == [r, g, b] && marker.pulse == pulse {
            return true;
        }
        (marker.color_srgb, marker.pulse) = ([r, g, b], pulse);
        c.set_level(slot, level);
        self.mark_changed(chunk);
        true
    }

    fn mark_changed(&mut self, chunk: u32) {
        let c = &mut self.chunks[chunk as usize];
        if !c.changed {
            c.changed = true;
            self.changed.push(chunk);
        }
    }

    /// The chunks changed since the last call, in the order they first changed.
    pub fn take_changed(&mut self) -> Vec<ChunkKey> {
        let changed = std::mem::take(&mut self.changed);
        changed
            .into_iter()
            .map(|i| {
                let c = &mut self.chunks[i as usize];
                c.changed = false;
                c.key
            })
            .collect()
    }

    pub fn get(&self, key: &ChunkKey) -> Option<&Chunk> {
        self.by_key.get(key).map(|i| &self.chunks[*i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &Chunk> {
        self.chunks.iter()
    }

    /// Sensors placed.
    pub fn sensors(&self) -> usize {
        self.chunks.iter().map(|c| c.sensors.len()).sum()
    }

    /// What a placed sensor measures.
    pub fn sensor_kind(&self, sensor: u32) -> Option<SensorKind> {
        let (chunk, _) = (*self.place.get(sensor as usize)?)?;
        Some(self.chunks[chunk as usize].key.kind)
    }

    /// Where a placed sensor is.
    pub fn sensor_ecef(&self, sensor: u32) -> Option<DVec3> {
        let (chunk, slot) = (*self.place.get(sensor as usize)?)?;
        Some(self.chunks[chunk as usize].site_ecef(slot as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn city(n: u32) -> Vec<Site> {
        (0..n)
            .map(|i| {
                Site(
                    i,
                    SensorKind::ALL[(i % 6) as usize],
                    114.0 + (i % 50) as f64 * 0.001,
                    22.5 + (i / 50) as f64 * 0.001,
                    2.0,
                )
            })
            .collect()
    }

    #[test]
    fn sites_land_in_their_kind_and_cell_at_their_place() {
        let mut m = MarkerChunks::default();
        for s in city(3000) {
            assert!(m.add_site(&s));
        }
        assert_eq!(m.sensors(), 3000);
        // 50 × 60 sites 0.001° apart span 5 × 6 cells; six kinds.
        assert_eq!(m.iter().count(), 6 * 5 * 6);
        for c in m.iter() {
            assert!(c.sensors.iter().all(|s| SensorKind::ALL[(*s % 6) as usize] == c.key.kind));
        }
        let Site(_, _, lon, lat, h) = city(3000)[1234];
        let want = WGS84.ecef_from_cartographic(Cartographic::from_degrees(lon, lat, h as f64));
        assert!((m.sensor_ecef(1234).unwrap() - want).length() < 0.01, "f32 offsets keep centimetres");
        // Offsets are local: within a cell's half-diagonal of its centre.
        assert!(m.iter().flat_map(|c| &c.instances).all(|i| glam::Vec3::from(i.offset_m).length() < 800.0));
    }

    #[test]
    fn duplicates_and_bad_sites_are_refused() {
        let mut m = MarkerChunks::default();
        assert!(m.add_site(&Site(7, SensorKind::Noise, 114.0, 22.5, 0.0)));
        assert!(!m.add_site(&Site(7, SensorKind::Pm25, 113.0, 22.0, 0.0)), "placed once");
        assert!(!m.add_site(&Site(8, SensorKind::Noise, 200.0, 22.5, 0.0)));
        assert!(!m.add_site(&Site(9, SensorKind::Noise, 114.0, f64::NAN, 0.0)));
        assert!(!m.add_site(&Site(MAX_SENSORS, SensorKind::Noise, 114.0, 22.5, 0.0)));
        assert_eq!(m.sensors(), 1);
    }

    #[test]
    fn readings_recolour_in_place_and_mark_only_their_chunk() {
        let mut m = MarkerChunks::default();
        for s in city(3000) {
            m.add_site(&s);
        }
        assert_eq!(m.take_changed().len(), 180, "every new chunk");
        assert!(m.take_changed().is_empty());
        // Sensor 12 is pm25 (12 % 6 == 2).
        assert!(m.set_reading(&Reading(12, 80.0, AlarmLevel::Alarm)));
        assert!(!m.set_reading(&Reading(99_999, 1.0, AlarmLevel::Normal)), "not placed");
        let changed = m.take_changed();
        assert_eq!(changed.len(), 1);
        let c = m.get(&changed[0]).unwrap();
        let slot = c.sensors.iter().position(|s| *s == 12).unwrap();
        assert_eq!(c.instances[slot].pulse, 1.0);
        assert_eq!(c.instances[slot].color_srgb, super::super::ramp::ALARM_SRGB);
        assert_eq!((c.worst(), c.level_counts[2]), (AlarmLevel::Alarm, 1));
        // The same reading again changes nothing; back to normal clears the alarm.
        m.set_reading(&Reading(12, 80.0, AlarmLevel::Alarm));
        assert!(m.take_changed().is_empty());
        m.set_reading(&Reading(12, 10.0, AlarmLevel::Normal));
        let c = m.get(&changed[0]).unwrap();
        assert_eq!((c.worst(), c.level_counts), (AlarmLevel::Normal, [c.sensors.len() as u32, 0, 0]));
    }

    #[test]
    fn a_chunk_draws_every_sensor_near_and_one_cluster_far() {
        let mut m = MarkerChunks::default();
        for s in city(300) {
            m.add_site(&s);
        }
        let key = m.iter().map(|c| c.key).find(|k| k.kind == SensorKind::Noise).unwrap();
        let shift = Mat4::from_translation(Vec3::new(10.0, 0.0, 0.0));
        let c = m.get(&key).unwrap();
        let near = c.drawn(Detail::Sensors, &shift);
        assert_eq!(near.len(), c.sensors.len());
        assert_eq!(near[0].offset_m[0], c.instances[0].offset_m[0] + 10.0, "moved into the engine's frame");
        let far = c.drawn(Detail::Cluster, &Mat4::IDENTITY);
        assert_eq!(far.len(), 1);
        assert_eq!((far[0].scale, far[0].pulse), (cluster_scale(c.sensors.len()), 0.0));
        // An alarm in the chunk turns its cluster red and pulsing.
        let sensor = c.sensors[0];
        m.set_reading(&Reading(sensor, 99.0, AlarmLevel::Alarm));
        let far = m.get(&key).unwrap().drawn(Detail::Cluster, &Mat4::IDENTITY);
        assert_eq!((far[0].color_srgb, far[0].pulse), (super::super::ramp::ALARM_SRGB, 1.0));
    }

    #[test]
    fn the_instance_layout_is_32_packed_bytes() {
        assert_eq!(std::mem::size_of::<MarkerInstance>(), 32);
    }
}

//! Far chunks draw as one cluster marker (count, worst level); near ones draw every sensor. The
//! switch has a band between the two distances so a chunk at the edge does not flicker.

/// How a chunk draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    #[default]
    Cluster,
    Sensors,
}

/// Splitting happens nearer than `split_m`; merging only farther than this factor × `split_m`.
pub const HYSTERESIS: f64 = 1.3;

/// The next detail of a chunk whose centre is `distance_m` from the eye.
pub fn next_detail(current: Detail, distance_m: f64, split_m: f64) -> Detail {
    match current {
        Detail::Cluster if distance_m < split_m => Detail::Sensors,
        Detail::Sensors if distance_m > split_m * HYSTERESIS => Detail::Cluster,
        d => d,
    }
}

/// A cluster's symbol size relative to one sensor's: grows with the count's logarithm.
pub fn cluster_scale(count: usize) -> f32 {
    1.0 + (count.max(1) as f32).log2() * 0.25
}

/// Where a kind's cluster stands in its cell, from the sensors' centroid (east, north metres):
/// the kinds of a cell on a ring 150 m across, 60° apart, so their clusters stand side by side.
pub fn cluster_offset_m(kind_index: usize) -> [f32; 2] {
    let a = (kind_index as f32) * std::f32::consts::TAU / 6.0;
    [75.0 * a.cos(), 75.0 * a.sin()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_holds_either_state() {
        let split = 1000.0;
        assert_eq!(next_detail(Detail::Cluster, 999.0, split), Detail::Sensors);
        assert_eq!(next_detail(Detail::Cluster, 1100.0, split), Detail::Cluster, "in the band: stays");
        assert_eq!(next_detail(Detail::Sensors, 1100.0, split), Detail::Sensors, "in the band: stays");
        assert_eq!(next_detail(Detail::Sensors, 1301.0, split), Detail::Cluster);
        // Jitter around the split distance switches once, not every frame.
        let mut d = Detail::Cluster;
        let mut switches = 0;
        for i in 0..100 {
            let next = next_detail(d, split + if i % 2 == 0 { -5.0 } else { 5.0 }, split);
            switches += (next != d) as u32;
            d = next;
        }
        assert_eq!(switches, 1);
    }

    #[test]
    fn cluster_symbols_grow_slowly_with_the_count() {
        assert_eq!(cluster_scale(1), 1.0);
        assert_eq!(cluster_scale(1024), 3.5);
        assert!(cluster_scale(0) == cluster_scale(1));
    }

    #[test]
    fn the_kinds_of_a_cell_cluster_apart() {
        let at: Vec<[f32; 2]> = (0..6).map(cluster_offset_m).collect();
        for (i, a) in at.iter().enumerate() {
            for b in &at[i + 1..] {
                assert!(((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt() >= 74.9, "{a:?} {b:?}");
            }
        }
    }
}

//! Pacing the live layer's work over frames, so that a second's readings arriving in one message
//! never cost one frame more than a budget: readings queue as they arrive and at most
//! `readings_per_frame` are applied a frame; the chunks they change queue (once each, oldest
//! first) and are rebuilt until `instances_per_frame` instances were rebuilt in the frame (always
//! at least one chunk, so the queue drains). With the defaults a tick of 17,000 readings is drawn
//! within a few frames, and no frame applies or rebuilds more than its share. A stream faster than
//! the readings' budget is applied faster too: no backlog outlives [`DRAIN_FRAMES`] frames.

use std::collections::{HashSet, VecDeque};

use super::chunks::{ChunkKey, MarkerChunks};
use crate::protocol::live::Reading;

/// A backlog of readings is applied within about this many frames, whatever the budget.
pub const DRAIN_FRAMES: usize = 30;

/// How much one frame may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaceBudget {
    pub readings_per_frame: usize,
    pub instances_per_frame: usize,
}

impl Default for PaceBudget {
    fn default() -> Self {
        Self { readings_per_frame: 2_000, instances_per_frame: 8_000 }
    }
}

/// The readings not applied yet and the chunks not rebuilt yet.
#[derive(Debug, Default, Clone)]
pub struct Paced {
    pending: VecDeque<Reading>,
    dirty: VecDeque<ChunkKey>,
    queued: HashSet<ChunkKey>,
}

impl Paced {
    /// Queues readings as they arrive.
    pub fn push_readings(&mut self, readings: impl IntoIterator<Item = Reading>) {
        self.pending.extend(readings);
    }

    /// Applies up to `budget` queued readings (oldest first), or a [`DRAIN_FRAMES`]th of the queue
    /// when that is more (a stream faster than the budget never builds an endless backlog), and
    /// queues the chunks they changed.
    pub fn apply(&mut self, chunks: &mut MarkerChunks, budget: usize) {
        let n = budget.max(self.pending.len().div_ceil(DRAIN_FRAMES)).min(self.pending.len());
        for r in self.pending.drain(..n) {
            chunks.set_reading(&r);
        }
        for key in chunks.take_changed() {
            self.mark(key);
        }
    }

    /// Queues a chunk for rebuilding (once, however often it is marked).
    pub fn mark(&mut self, key: ChunkKey) {
        if self.queued.insert(key) {
            self.dirty.push_back(key);
        }
    }

    /// The chunks to rebuild this frame, oldest first, until their `cost` (instances each) would
    /// pass `budget`; at least one when any is queued.
    pub fn next_rebuilds(&mut self, budget: usize, cost: impl Fn(&ChunkKey) -> usize) -> Vec<ChunkKey> {
        let mut spent = 0;
        let mut keys = Vec::new();
        while let Some(key) = self.dirty.front() {
            let c = cost(key);
            if !keys.is_empty() && spent + c > budget {
                break;
            }
            spent += c;
            self.queued.remove(key);
            keys.extend(self.dirty.pop_front());
        }
        keys
    }

    /// Readings and chunks still queued.
    pub fn backlog(&self) -> (usize, usize) {
        (self.pending.len(), self.dirty.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::live::Site;
    use crate::protocol::sensors::{AlarmLevel, SensorKind};

    /// 1,000 sensors of one kind in 10 cells of 100.
    fn city() -> MarkerChunks {
        let mut m = MarkerChunks::default();
        for i in 0..1000u32 {
            m.add_site(&Site(i, SensorKind::Noise, 114.0 + 0.01 * (i / 100) as f64 + 0.005, 22.505, 0.0));
        }
        m.take_changed();
        m
    }

    #[test]
    fn a_burst_is_spread_over_frames_within_the_budgets_and_fully_drawn() {
        let mut chunks = city();
        let mut paced = Paced::default();
        let budget = PaceBudget { readings_per_frame: 300, instances_per_frame: 250 };
        paced.push_readings((0..1000).map(|i| Reading(i, 90.0, AlarmLevel::Alarm)));
        let mut frames = 0;
        let mut rebuilt = Vec::new();
        while paced.backlog() != (0, 0) {
            paced.apply(&mut chunks, budget.readings_per_frame);
            let keys =
                paced.next_rebuilds(budget.instances_per_frame, |k| chunks.get(k).map_or(0, |c| c.sensor_count()));
            assert!(keys.len() * 100 <= 250, "{} chunks of 100 in a frame", keys.len());
            rebuilt.extend(keys);
            frames += 1;
        }
        // 1,000 readings at 300 a frame: 4 frames; 10 chunks at 2 a frame: 5 frames.
        assert_eq!(frames, 5);
        rebuilt.sort();
        rebuilt.dedup();
        assert_eq!(rebuilt.len(), 10, "every changed chunk rebuilt once it settled");
        assert!(chunks.iter().all(|c| c.worst() == AlarmLevel::Alarm), "every reading applied");
    }

    #[test]
    fn a_chunk_is_queued_once_and_a_costly_one_still_goes() {
        let mut paced = Paced::default();
        let key = ChunkKey::of(SensorKind::Noise, 114.0, 22.5);
        paced.mark(key);
        paced.mark(key);
        assert_eq!(paced.backlog(), (0, 1));
        assert_eq!(paced.next_rebuilds(10, |_| 1_000), vec![key], "over the budget alone: still rebuilt");
        assert!(paced.next_rebuilds(10, |_| 1).is_empty());
    }
}

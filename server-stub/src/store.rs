//! Sensor history, alarms and the audit log in SQLite (WAL): one writer, fresh readers, and
//! retention. Everything survives a restart, alarm sequence numbers included.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use citytwin_protocol::live::AlarmEvent;
use rusqlite::{Connection, OpenFlags, params};

pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
}

/// One access to a restricted resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub time_ms: i64,
    pub who: String,
    pub role: String,
    pub action: String,
    pub resource: String,
    pub allowed: bool,
}

/// One stored observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub id: i64,
    pub datastream: u32,
    pub time_ms: i64,
    pub result: f64,
}

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS observations (
        id INTEGER PRIMARY KEY, datastream INTEGER NOT NULL, restricted INTEGER NOT NULL,
        time INTEGER NOT NULL, result REAL NOT NULL);
    CREATE INDEX IF NOT EXISTS observations_by_stream ON observations (datastream, time);
    CREATE INDEX IF NOT EXISTS observations_by_time ON observations (time);
    CREATE TABLE IF NOT EXISTS alarms (
        seq INTEGER PRIMARY KEY, sensor INTEGER NOT NULL, event TEXT NOT NULL, time INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY, time INTEGER NOT NULL, who TEXT NOT NULL, role TEXT NOT NULL,
        action TEXT NOT NULL, resource TEXT NOT NULL, allowed INTEGER NOT NULL);
";

impl Store {
    pub fn open(path: &Path) -> rusqlite::Result<Store> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store { path: path.to_owned(), writer: Mutex::new(conn) })
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while writing leaves SQLite consistent (transactions roll back): carry on.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A read-only connection (WAL lets it read while the writer writes).
    pub fn reader(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(c)
    }

    /// Writes a batch of `(datastream, restricted, time_ms, result)` in one transaction.
    pub fn insert_observations(&self, rows: &[(u32, bool, i64, f32)]) -> rusqlite::Result<()> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO observations (datastream, restricted, time, result) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (d, restricted, t, r) in rows {
                stmt.execute(params![d, restricted, t, *r as f64])?;
            }
        }
        tx.commit()
    }

    pub fn insert_alarms(&self, events: &[AlarmEvent]) -> rusqlite::Result<()> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT OR REPLACE INTO alarms (seq, sensor, event, time) VALUES (?1, ?2, ?3, ?4)")?;
            for e in events {
                let json = serde_json::to_string(e).expect("serialisable");
                stmt.execute(params![e.seq as i64, e.sensor, json, e.time_ms])?;
            }
        }
        tx.commit()
    }

    /// The highest alarm sequence number stored (0 when none).
    pub fn last_alarm_seq(&self) -> rusqlite::Result<u64> {
        self.writer()
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM alarms", [], |r| r.get::<_, i64>(0))
            .map(|v| v as u64)
    }

    /// Alarms after `seq`, oldest first, at most `limit`.
    pub fn alarms_after(&self, seq: u64, limit: usize) -> rusqlite::Result<Vec<AlarmEvent>> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached("SELECT event FROM alarms WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let rows = stmt.query_map(params![seq as i64, limit as i64], |r| r.get::<_, String>(0))?;
        Ok(rows.filter_map(|r| r.ok()).filter_map(|s| serde_json::from_str(&s).ok()).collect())
    }

    pub fn insert_audit(
        &self,
        time_ms: i64,
        who: &str,
        role: &str,
        action: &str,
        resource: &str,
        allowed: bool,
    ) -> rusqlite::Result<()> {
        self.writer().execute(
            "INSERT INTO audit (time, who, role, action, resource, allowed) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![time_ms, who, role, action, resource, allowed],
        )?;
        Ok(())
    }

    /// Audit entries, newest first.
    pub fn audit_log(&self, limit: usize) -> rusqlite::Result<Vec<AuditEntry>> {
        let conn = self.reader()?;
        let mut stmt =
            conn.prepare("SELECT time, who, role, action, resource, allowed FROM audit ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(AuditEntry {
                time_ms: r.get(0)?,
                who: r.get(1)?,
                role: r.get(2)?,
                action: r.get(3)?,
                resource: r.get(4)?,
                allowed: r.get(5)?,
            })
        })?;
        rows.collect()
    }

    /// Deletes observations and alarms older than `cutoff_ms`; returns rows deleted.
    pub fn apply_retention(&self, cutoff_ms: i64) -> rusqlite::Result<usize> {
        let conn = self.writer();
        let n = conn.execute("DELETE FROM observations WHERE time < ?1", [cutoff_ms])?;
        // The newest alarm stays, so sequence numbers never restart.
        let m =
            conn.execute("DELETE FROM alarms WHERE time < ?1 AND seq < (SELECT MAX(seq) FROM alarms)", [cutoff_ms])?;
        Ok(n + m)
    }

    /// Runs an observation query built by the SensorThings layer: `sql_where` with `args`.
    pub fn query_observations(
        &self,
        sql_where: &str,
        args: &[rusqlite::types::Value],
        order_by: &str,
        limit: usize,
        offset: usize,
        count: bool,
    ) -> rusqlite::Result<(Vec<Observation>, Option<u64>)> {
        let conn = self.reader()?;
        let sql = format!(
            "SELECT id, datastream, time, result FROM observations WHERE {sql_where} ORDER BY {order_by} LIMIT {limit} OFFSET {offset}"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(Observation { id: r.get(0)?, datastream: r.get(1)?, time_ms: r.get(2)?, result: r.get(3)? })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let total = if count {
            let sql = format!("SELECT COUNT(*) FROM observations WHERE {sql_where}");
            Some(conn.query_row(&sql, rusqlite::params_from_iter(args.iter()), |r| r.get::<_, i64>(0))? as u64)
        } else {
            None
        };
        Ok((rows, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use citytwin_protocol::sensors::{AlarmLevel, SensorKind};

    fn alarm(seq: u64, time_ms: i64) -> AlarmEvent {
        AlarmEvent {
            seq,
            sensor: 3,
            kind: SensorKind::Noise,
            level: AlarmLevel::Alarm,
            previous: AlarmLevel::Normal,
            value: 90.0,
            time_ms,
        }
    }

    #[test]
    fn survives_reopening_and_retains_only_recent_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        {
            let s = Store::open(&path).unwrap();
            s.insert_observations(&[(1, false, 1_000, 1.5), (1, false, 2_000, 2.5), (2, true, 3_000, 3.5)]).unwrap();
            s.insert_alarms(&[alarm(1, 1_000), alarm(2, 2_000)]).unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.last_alarm_seq().unwrap(), 2);
        assert_eq!(s.alarms_after(1, 10).unwrap(), vec![alarm(2, 2_000)]);
        let (rows, count) = s.query_observations("datastream = ?1", &[1i64.into()], "time DESC", 10, 0, true).unwrap();
        assert_eq!((rows.len(), count, rows[0].result), (2, Some(2), 2.5));
        assert_eq!(s.apply_retention(2_500).unwrap(), 2 + 1);
        assert_eq!(s.last_alarm_seq().unwrap(), 2, "the newest alarm is kept");
        let (rows, _) = s.query_observations("1 = 1", &[], "id", 10, 0, false).unwrap();
        assert_eq!(rows.len(), 1);
    }
}

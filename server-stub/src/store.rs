//! Sensor history, alarms and the audit log in SQLite (WAL): one writer, fresh readers, and
//! retention. Everything survives a restart, alarm sequence numbers included. Observations are
//! unique per (datastream, time), which the schema enforces; queries built from a request run
//! under a time budget and report what went wrong as a [`QueryError`].

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use citytwin_protocol::live::AlarmEvent;
use rusqlite::{Connection, OpenFlags, params};

pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
}

/// One access to a restricted resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    /// Increases with every entry.
    pub id: i64,
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
    /// Of a restricted sensor layer (gas pipelines).
    pub restricted: bool,
}

/// How long a query built from a request may run before it is interrupted.
pub const QUERY_BUDGET: Duration = Duration::from_secs(2);

/// Why a query built from a request failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// SQLite refused the statement (too complex, too many terms): the request's fault.
    #[error("the database refused the query: {0}")]
    Refused(String),
    /// It ran past [`QUERY_BUDGET`], or the database stayed busy.
    #[error("the query did not finish within {} s; narrow it with $filter or $top", QUERY_BUDGET.as_secs())]
    TooSlow,
    #[error(transparent)]
    Database(#[from] rusqlite::Error),
}

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS observations (
        id INTEGER PRIMARY KEY, datastream INTEGER NOT NULL, restricted INTEGER NOT NULL,
        time INTEGER NOT NULL, result REAL NOT NULL);
    CREATE INDEX IF NOT EXISTS observations_by_time ON observations (time);
    CREATE TABLE IF NOT EXISTS alarms (
        seq INTEGER PRIMARY KEY, sensor INTEGER NOT NULL, event TEXT NOT NULL, time INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY, time INTEGER NOT NULL, who TEXT NOT NULL, role TEXT NOT NULL,
        action TEXT NOT NULL, resource TEXT NOT NULL, allowed INTEGER NOT NULL);
";

/// Schema migrations by `PRAGMA user_version`, each run once, in one transaction.
const MIGRATIONS: &[&str] = &[
    // 1: one observation per (datastream, time). Earlier versions wrote a full snapshot at every
    // start-up, stamped with each sensor's last change, so restarts left duplicates: keep the first.
    "DELETE FROM observations WHERE id NOT IN (SELECT MIN(id) FROM observations GROUP BY datastream, time);
     DROP INDEX IF EXISTS observations_by_stream;
     CREATE UNIQUE INDEX observations_by_stream ON observations (datastream, time);",
];

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!("history database migrated to schema version {}", i + 1);
    }
    Ok(())
}

impl Store {
    pub fn open(path: &Path) -> rusqlite::Result<Store> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        migrate(&mut conn)?;
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
        c.busy_timeout(Duration::from_secs(5))?;
        Ok(c)
    }

    /// Writes a batch of `(datastream, restricted, time_ms, result)` in one transaction; a reading
    /// already stored for that datastream and time is kept as it is.
    pub fn insert_observations(&self, rows: &[(u32, bool, i64, f32)]) -> rusqlite::Result<()> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO observations (datastream, restricted, time, result) VALUES (?1, ?2, ?3, ?4)",
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
            conn.prepare("SELECT id, time, who, role, action, resource, allowed FROM audit ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                time_ms: r.get(1)?,
                who: r.get(2)?,
                role: r.get(3)?,
                action: r.get(4)?,
                resource: r.get(5)?,
                allowed: r.get(6)?,
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

    /// Runs an observation query built by the SensorThings layer: `sql_where` with `args`, within
    /// [`QUERY_BUDGET`].
    pub fn query_observations(
        &self,
        sql_where: &str,
        args: &[rusqlite::types::Value],
        order_by: &str,
        limit: usize,
        offset: usize,
        count: bool,
    ) -> Result<(Vec<Observation>, Option<u64>), QueryError> {
        let conn = self.budgeted_reader()?;
        let sql = format!(
            "SELECT id, datastream, time, result, restricted FROM observations WHERE {sql_where} ORDER BY {order_by} LIMIT {limit} OFFSET {offset}"
        );
        let mut stmt = conn.prepare(&sql).map_err(refused)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(Observation {
                    id: r.get(0)?,
                    datastream: r.get(1)?,
                    time_ms: r.get(2)?,
                    result: r.get(3)?,
                    restricted: r.get(4)?,
                })
            })
            .map_err(ran)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(ran)?;
        let total = if count {
            let sql = format!("SELECT COUNT(*) FROM observations WHERE {sql_where}");
            let mut stmt = conn.prepare(&sql).map_err(refused)?;
            Some(stmt.query_row(rusqlite::params_from_iter(args.iter()), |r| r.get::<_, i64>(0)).map_err(ran)? as u64)
        } else {
            None
        };
        Ok((rows, total))
    }

    /// Whether any observation of a restricted datastream matches `sql_where`: a request that
    /// reaches for restricted data even where its role's view hides it.
    pub fn any_restricted(&self, sql_where: &str, args: &[rusqlite::types::Value]) -> Result<bool, QueryError> {
        let conn = self.budgeted_reader()?;
        let sql = format!("SELECT EXISTS (SELECT 1 FROM observations WHERE restricted = 1 AND ({sql_where}))");
        let mut stmt = conn.prepare(&sql).map_err(refused)?;
        stmt.query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0)).map_err(ran)
    }

    /// A reader whose statements are interrupted once [`QUERY_BUDGET`] has passed.
    fn budgeted_reader(&self) -> Result<Connection, QueryError> {
        let mut conn = self.reader()?;
        let deadline = Instant::now() + QUERY_BUDGET;
        conn.progress_handler(10_000, Some(move || Instant::now() > deadline))?;
        Ok(conn)
    }
}

/// An error preparing a statement built from a request: the request asked too much.
fn refused(e: rusqlite::Error) -> QueryError {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => QueryError::Refused(message),
        rusqlite::Error::SqliteFailure(f, None) => QueryError::Refused(f.to_string()),
        other => QueryError::Database(other),
    }
}

/// An error running a statement: interrupted by the budget or busy is "too slow".
fn ran(e: rusqlite::Error) -> QueryError {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked, OperationInterrupted};
    match e.sqlite_error_code() {
        Some(OperationInterrupted | DatabaseBusy | DatabaseLocked) => QueryError::TooSlow,
        _ => QueryError::Database(e),
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
        assert!(!rows[0].restricted);
        assert!(s.any_restricted("time >= ?1", &[3_000i64.into()]).unwrap());
        assert!(!s.any_restricted("time < ?1", &[3_000i64.into()]).unwrap());
        assert_eq!((rows.len(), count, rows[0].result), (2, Some(2), 2.5));
        assert_eq!(s.apply_retention(2_500).unwrap(), 2 + 1);
        assert_eq!(s.last_alarm_seq().unwrap(), 2, "the newest alarm is kept");
        let (rows, _) = s.query_observations("1 = 1", &[], "id", 10, 0, false).unwrap();
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn one_observation_per_datastream_and_time_and_old_duplicates_are_migrated_away() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        {
            // A database as version 0 left it: duplicates from repeated start-up snapshots.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(SCHEMA).unwrap();
            c.execute_batch("CREATE INDEX observations_by_stream ON observations (datastream, time)").unwrap();
            for _ in 0..3 {
                c.execute("INSERT INTO observations (datastream, restricted, time, result) VALUES (1, 0, 5, 1.0)", [])
                    .unwrap();
            }
            c.execute("INSERT INTO observations (datastream, restricted, time, result) VALUES (1, 0, 6, 2.0)", [])
                .unwrap();
        }
        let s = Store::open(&path).unwrap();
        let all = |s: &Store| s.query_observations("1 = 1", &[], "id", 100, 0, true).unwrap();
        let (rows, n) = all(&s);
        assert_eq!(n, Some(2), "{rows:?}");
        assert_eq!(rows[0].id, 1, "the first of the duplicates is kept");
        s.insert_observations(&[(1, false, 5, 9.0), (1, false, 7, 3.0)]).unwrap();
        assert_eq!(all(&s).1, Some(3), "a second reading at the same time is ignored");
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(all(&s).1, Some(3), "reopening migrates nothing twice");
    }

    #[test]
    fn queries_the_database_refuses_are_errors_of_the_request() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("h.sqlite")).unwrap();
        let deep = format!("{}1{}", "(1 = ".repeat(1200), ")".repeat(1200));
        let e = s.query_observations(&deep, &[], "id", 10, 0, false).unwrap_err();
        assert!(matches!(e, QueryError::Refused(_)), "{e:?}");
        // A query that would run for minutes is interrupted by the budget.
        let slow = "(SELECT COUNT(*) FROM observations, (WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n \
                    WHERE x < 1000000000) SELECT x FROM n)) >= 0";
        s.insert_observations(&[(1, false, 1, 1.0)]).unwrap();
        let e = s.query_observations(slow, &[], "id", 10, 0, false).unwrap_err();
        assert!(matches!(e, QueryError::TooSlow), "{e:?}");
    }
}

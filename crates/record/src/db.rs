//! The SQLite file: a header (`meta`), the recording sessions (when each recorder started and
//! how far it got), and the frames (keyframes, compacted chunks, and the raw tail written every
//! second). WAL mode, one transaction per write; the file and its WAL are mode 0600.
//!
//! ```sql
//! meta(key TEXT PRIMARY KEY, value TEXT)      -- format, schema_version, cluster, context, clustertop_version, created
//! sessions(id INTEGER PRIMARY KEY, start INTEGER, end INTEGER, version TEXT, closed INTEGER)
//! frames(seq INTEGER PRIMARY KEY, kind INTEGER, t0 INTEGER, t1 INTEGER, data BLOB)
//!   -- kind 0: keyframe (zstd), 1: chunk of batches (zstd), 2: tail of batches (raw); times in ms
//! ```

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::{Error, Header};

/// The schema this build writes and reads. Older recordings are read as they are; a newer one
/// is refused.
/// 2: pods carry `sandbox` (the spec fields the sandbox compatibility rules read).
/// 3: host readings are deltas against the node's previous one (`host_delta`); BGP sessions
/// carry their failover fields (graceful restart, configured timers); pods their sandbox start,
/// and the kubelet's sandbox start figures are an update of their own.
/// 4: the CPU curve's points carry the reclaimed capacity (the batch tier's allocatable).
pub const SCHEMA_VERSION: u32 = 4;
pub const FORMAT: &str = "clustertop.recording";

pub const KEYFRAME: i64 = 0;
pub const CHUNK: i64 = 1;
pub const TAIL: i64 = 2;

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub(crate) fn db_err(path: &Path, e: rusqlite::Error) -> Error {
    let detail = e.to_string();
    if matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    ) {
        return Error::Damaged { path: path.to_path_buf(), detail };
    }
    Error::Db { path: path.to_path_buf(), detail }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (id INTEGER PRIMARY KEY, start INTEGER NOT NULL, end INTEGER NOT NULL,
    version TEXT NOT NULL, closed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS frames (seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, t0 INTEGER NOT NULL,
    t1 INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS frames_kind_t0 ON frames (kind, t0);
";

/// Open (creating if needed) for writing: WAL, incremental vacuum, the schema and the header.
pub(crate) fn open_write(path: &Path, header: &Header) -> Result<Connection, Error> {
    let e = |x| db_err(path, x);
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)
            .map_err(e)?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(e)?;
    // auto_vacuum only takes effect before the first table exists.
    conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;").map_err(e)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(e)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Db {
            path: path.to_path_buf(),
            detail: format!("cannot use WAL mode (got {mode})"),
        });
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL;").map_err(e)?;
    let existing = read_meta(&conn, "format").ok().flatten();
    if existing.is_some() || has_tables(&conn).map_err(e)? {
        check(path, &conn)?;
        let had = read_header(path, &conn)?;
        if had.context != header.context || had.cluster != header.cluster {
            return Err(Error::OtherCluster {
                path: path.to_path_buf(),
                found: Box::new(had),
                wanted: Box::new(header.clone()),
            });
        }
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('clustertop_version', ?1)", [&header.version])
            .map_err(e)?;
        return Ok(conn);
    }
    let tx = conn.unchecked_transaction().map_err(e)?;
    tx.execute_batch(SCHEMA).map_err(e)?;
    let created = Utc::now().to_rfc3339();
    let version = SCHEMA_VERSION.to_string();
    for (k, v) in [
        ("format", FORMAT),
        ("schema_version", version.as_str()),
        ("cluster", header.cluster.as_str()),
        ("context", header.context.as_str()),
        ("clustertop_version", header.version.as_str()),
        ("created", created.as_str()),
    ] {
        tx.execute("INSERT OR REPLACE INTO meta VALUES (?1, ?2)", params![k, v]).map_err(e)?;
    }
    tx.commit().map_err(e)?;
    Ok(conn)
}

/// Open an existing recording to read: read-write when allowed (so SQLite can recover the WAL of
/// a recorder that was killed), else read-only; queries only either way.
pub(crate) fn open_read(path: &Path) -> Result<Connection, Error> {
    if !path.exists() {
        return Err(Error::Missing(path.to_path_buf()));
    }
    let e = |x| db_err(path, x);
    let rw = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    );
    let conn = match rw {
        Ok(c) => c,
        Err(_) => Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(e)?,
    };
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(e)?;
    if let Err(err) =
        conn.execute_batch("PRAGMA query_only = 1;").map_err(e).and_then(|()| check(path, &conn))
    {
        drop(conn);
        // Without SQLite's magic it is no recording at all (with it, SQLite judged the damage).
        // The bytes are read only now: closing any other handle on the file in this process
        // would drop the POSIX locks SQLite holds for a recorder writing it here, and another
        // process would then take its WAL away.
        return Err(if matches!(err, Error::Damaged { .. }) && !sqlite_magic(path) {
            Error::NotARecording(path.to_path_buf())
        } else {
            err
        });
    }
    Ok(conn)
}

fn sqlite_magic(path: &Path) -> bool {
    let mut magic = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok()
        && &magic == b"SQLite format 3\0"
}

fn has_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get::<_, i64>(0))
        .map(|n| n > 0)
}

fn read_meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()
}

/// A clustertop recording of a schema this build reads.
fn check(path: &Path, conn: &Connection) -> Result<(), Error> {
    let not = || Error::NotARecording(path.to_path_buf());
    let format = match read_meta(conn, "format") {
        Ok(f) => f,
        Err(e) if e.sqlite_error_code().is_some_and(|c| c != rusqlite::ErrorCode::Unknown) => {
            // `no such table` is not a recording; a damaged file says so.
            let d = db_err(path, e);
            return Err(if matches!(d, Error::Damaged { .. }) { d } else { not() });
        }
        Err(_) => return Err(not()),
    };
    if format.as_deref() != Some(FORMAT) {
        return Err(not());
    }
    let v = read_meta(conn, "schema_version").map_err(|e| db_err(path, e))?;
    let v: u32 = v.and_then(|v| v.parse().ok()).ok_or_else(not)?;
    if v > SCHEMA_VERSION {
        return Err(Error::NewerSchema { path: path.to_path_buf(), found: v, supported: SCHEMA_VERSION });
    }
    if v < SCHEMA_VERSION {
        return Err(Error::OlderSchema { path: path.to_path_buf(), found: v, supported: SCHEMA_VERSION });
    }
    Ok(())
}

pub(crate) fn read_header(path: &Path, conn: &Connection) -> Result<Header, Error> {
    let get = |k| read_meta(conn, k).map_err(|e| db_err(path, e)).map(Option::unwrap_or_default);
    Ok(Header { cluster: get("cluster")?, context: get("context")?, version: get("clustertop_version")? })
}

/// Bytes the database's pages hold (freed pages excluded; the WAL apart).
pub(crate) fn used_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let count: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    Ok(((count - free).max(0) * page) as u64)
}

/// Give the free pages back to the file system. `incremental_vacuum` frees one page per row it
/// returns, so it is stepped to the end (a single step, as `execute_batch` does, frees one).
pub(crate) fn vacuum(conn: &Connection) -> rusqlite::Result<()> {
    let mut st = conn.prepare("PRAGMA incremental_vacuum")?;
    let mut rows = st.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

pub fn wal_path(path: &Path) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    p.into()
}

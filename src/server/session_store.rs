//! Where sessions live: in memory, bounded, expiring; a restart logs
//! everyone out (sessions carry no content, so nothing is lost).

use std::sync::{Arc, Mutex};

use tower_sessions::session::{Id, Record};
use tower_sessions::session_store;

/// Most sessions kept at once; beyond it, the ones closest to expiry go.
const MAX_SESSIONS: usize = 100_000;

/// An in-memory session store that forgets expired sessions (tower-sessions'
/// `MemoryStore` keeps them forever) and holds at most [`MAX_SESSIONS`], so
/// a flood of anonymous visits to the login form cannot exhaust memory.
#[derive(Debug, Clone, Default)]
pub struct SessionMemory {
    records: Arc<Mutex<std::collections::HashMap<Id, Record>>>,
}

impl SessionMemory {
    /// Drops expired sessions; the server calls this every few minutes.
    pub fn remove_expired(&self) {
        let now = tower_sessions::cookie::time::OffsetDateTime::now_utc();
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.retain(|_, r| r.expiry_date > now);
    }

    /// How many sessions are held.
    pub fn len(&self) -> usize {
        self.records.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True when no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&self, record: &mut Record, fresh: bool) {
        let now = tower_sessions::cookie::time::OffsetDateTime::now_utc();
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if records.len() >= MAX_SESSIONS && !records.contains_key(&record.id) {
            records.retain(|_, r| r.expiry_date > now);
            if records.len() >= MAX_SESSIONS {
                let mut expiries: Vec<_> = records.values().map(|r| r.expiry_date).collect();
                expiries.sort_unstable();
                let cut = expiries[MAX_SESSIONS / 10];
                records.retain(|_, r| r.expiry_date > cut);
            }
        }
        while fresh && records.contains_key(&record.id) {
            record.id = Id::default();
        }
        records.insert(record.id, record.clone());
    }
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for SessionMemory {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.insert(record, true);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.insert(&mut record.clone(), false);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = tower_sessions::cookie::time::OffsetDateTime::now_utc();
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        match records.get(id) {
            Some(record) if record.expiry_date > now => Ok(Some(record.clone())),
            Some(_) => {
                records.remove(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod store_tests {
    use super::*;
    use tower_sessions::SessionStore as _;
    use tower_sessions::cookie::time::{Duration, OffsetDateTime};

    fn record(expires_in: Duration) -> Record {
        Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn expired_sessions_are_forgotten() {
        let store = SessionMemory::default();
        let mut live = record(Duration::minutes(30));
        let mut dead = record(Duration::seconds(-1));
        store.create(&mut live).await.unwrap();
        store.create(&mut dead).await.unwrap();
        assert_eq!(store.len(), 2);
        assert!(store.load(&dead.id).await.unwrap().is_none());
        assert_eq!(store.len(), 1, "loading an expired session removes it");
        let mut stale = record(Duration::seconds(-1));
        store.create(&mut stale).await.unwrap();
        store.remove_expired();
        assert_eq!(store.len(), 1);
        assert!(store.load(&live.id).await.unwrap().is_some());
        store.delete(&live.id).await.unwrap();
        assert!(store.is_empty());
    }
}

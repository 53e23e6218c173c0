//! What every handler shares: settings, stores, the throttle, the preview
//! builder and the logger.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::accounts::AccountStore;
use crate::config::Config;
use crate::server::preview::{Logger, Preview};
use crate::server::session_store::SessionMemory;
use crate::server::ui::templates::Templates;
use crate::store::media::MediaStore;
use crate::store::posts::PostStore;

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: RwLock<Arc<Config>>,
    accounts: AccountStore,
    posts: PostStore,
    media: MediaStore,
    audit: crate::store::audit::Audit,
    throttle: Throttle,
    totp_throttle: Throttle,
    hashing: tokio::sync::Semaphore,
    decoding: tokio::sync::Semaphore,
    preview: Preview,
    sessions: SessionMemory,
    ui: Templates,
    log: Logger,
    loopback: bool,
}

impl AppState {
    /// State for serving `config`'s site.
    pub fn new(
        config: Config,
        accounts: AccountStore,
        preview: Preview,
        log: Logger,
        bind: SocketAddr,
    ) -> Self {
        let throttle = Throttle::new(config.server.login_attempts, config.server.login_window);
        // Codes get their own count: a right password must not wipe the
        // record of wrong codes.
        let totp_throttle = Throttle::new(config.server.login_attempts, config.server.login_window);
        accounts.set_site_title(&config.title);
        Self {
            inner: Arc::new(Inner {
                posts: PostStore::new(&config),
                media: MediaStore::new(&config),
                audit: crate::store::audit::Audit::new(&config.root),
                config: RwLock::new(Arc::new(config)),
                accounts,
                throttle,
                totp_throttle,
                hashing: tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
                ),
                decoding: tokio::sync::Semaphore::new(2),
                preview,
                sessions: SessionMemory::default(),
                ui: Templates::new(),
                log,
                loopback: bind.ip().is_loopback(),
            }),
        }
    }

    /// The current settings (replaced when an admin edits them).
    pub fn config(&self) -> Arc<Config> {
        self.inner
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the settings after config.toml changed.
    pub fn set_config(&self, config: Config) {
        self.inner.accounts.set_site_title(&config.title);
        *self.inner.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
    }

    /// Accounts.
    pub fn accounts(&self) -> &AccountStore {
        &self.inner.accounts
    }

    /// Posts.
    pub fn posts(&self) -> &PostStore {
        &self.inner.posts
    }

    /// Media.
    pub fn media(&self) -> &MediaStore {
        &self.inner.media
    }

    /// The audit trail.
    pub fn audit_trail(&self) -> &crate::store::audit::Audit {
        &self.inner.audit
    }

    /// Records in the audit trail that `actor` did `action` to `name`. The
    /// change is already made: a trail that cannot be written
    /// is logged as an error, never undoes it.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: crate::store::audit::Target,
        name: &str,
    ) {
        let (st, who, what, which) = (
            self.clone(),
            actor.to_string(),
            action.to_string(),
            name.to_string(),
        );
        let done = tokio::task::spawn_blocking(move || {
            st.inner.audit.record(
                &who,
                &what,
                target,
                &which,
                chrono::Utc::now().fixed_offset(),
            )
        })
        .await;
        match done {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => self.log(&format!("error: cannot write the audit trail: {err}")),
            Err(err) => self.log(&format!("error: cannot write the audit trail: {err}")),
        }
    }

    /// Login throttle.
    pub fn throttle(&self) -> &Throttle {
        &self.inner.throttle
    }

    /// Throttle of second login steps and TOTP confirmations, with the
    /// password throttle's limits.
    pub fn totp_throttle(&self) -> &Throttle {
        &self.inner.totp_throttle
    }

    /// Runs password hashing off the runtime, at most one per core at a
    /// time, so a flood of logins queues instead of exhausting memory.
    pub async fn password_work<T: Send + 'static>(
        &self,
        work: impl FnOnce(&AccountStore) -> T + Send + 'static,
    ) -> Result<T, super::error::ApiError> {
        let _permit = self
            .inner
            .hashing
            .acquire()
            .await
            .map_err(super::error::ApiError::internal)?;
        let state = self.clone();
        super::error::blocking(move || work(state.accounts())).await
    }

    /// Runs image decoding off the runtime, two at a time: each decode may
    /// use up to `images.max_alloc_mib` of memory.
    pub async fn image_work<T: Send + 'static>(
        &self,
        work: impl FnOnce(&AppState) -> T + Send + 'static,
    ) -> Result<T, super::error::ApiError> {
        let _permit = self
            .inner
            .decoding
            .acquire()
            .await
            .map_err(super::error::ApiError::internal)?;
        let state = self.clone();
        super::error::blocking(move || work(&state)).await
    }

    /// The session store.
    pub fn sessions(&self) -> &SessionMemory {
        &self.inner.sessions
    }

    /// The preview builder.
    pub fn preview(&self) -> &Preview {
        &self.inner.preview
    }

    /// Admin UI templates.
    pub fn ui(&self) -> &Templates {
        &self.inner.ui
    }

    /// Writes one log line; control characters are escaped so a request
    /// cannot forge lines.
    pub fn log(&self, line: &str) {
        let clean: String = line
            .chars()
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect();
        (self.inner.log)(&clean);
    }

    /// True when bound to a loopback address: the preview needs no login.
    pub fn is_loopback(&self) -> bool {
        self.inner.loopback
    }

    /// The client's address: the peer, or for a trusted proxy the last
    /// address in `X-Forwarded-For` that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        client_ip(peer, forwarded_for, &self.config().server.trusted_proxies)
    }
}

/// The client's address: `peer`, unless `peer` is a trusted proxy; then the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy
/// (addresses further left could be made up by the client).
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    forwarded_for
        .into_iter()
        .flat_map(|h| h.rsplit(','))
        .map(|part| part.trim().parse::<IpAddr>())
        .take_while(Result::is_ok)
        .filter_map(Result::ok)
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

/// Login attempts per account name and per client address within a window.
/// Unknown names are counted exactly like known ones, so the throttle
/// reveals nothing about who has an account. An attempt is recorded before
/// the password is checked, so parallel requests cannot slip past it;
/// a successful login takes its record back.
#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    window: Duration,
    attempts: Mutex<HashMap<[u8; 16], VecDeque<Instant>>>,
}

/// Most keys the throttle keeps before it forgets the stalest.
const THROTTLE_KEYS: usize = 50_000;

impl Throttle {
    /// `limit` failures per account (4× per address) within `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit as usize,
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Fixed-size keys: a long or hostile username costs 16 bytes.
    fn keys(username: &str, ip: IpAddr) -> [([u8; 16], usize); 2] {
        let key = |text: &str| {
            let hash = blake3::hash(text.as_bytes());
            let mut key = [0u8; 16];
            key.copy_from_slice(&hash.as_bytes()[..16]);
            key
        };
        [
            (key(&format!("user:{}", username.to_lowercase())), 1),
            (key(&format!("ip:{ip}")), 4),
        ]
    }

    /// Records an attempt, or returns the seconds to wait when this
    /// account or address is locked out (then nothing is recorded).
    pub fn begin(&self, username: &str, ip: IpAddr) -> Option<u64> {
        self.begin_keys(&Self::keys(username, ip))
    }

    /// Records an attempt that counts only against the address (such as a
    /// registration), or returns the seconds to wait.
    pub fn begin_address(&self, ip: IpAddr) -> Option<u64> {
        let [_, address] = Self::keys("", ip);
        self.begin_keys(&[address])
    }

    fn begin_keys(&self, keys: &[([u8; 16], usize)]) -> Option<u64> {
        let now = Instant::now();
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        if attempts.len() > THROTTLE_KEYS {
            self.forget_stale(&mut attempts, now);
        }
        let wait = keys
            .iter()
            .filter_map(|(key, factor)| {
                let list = attempts.get_mut(key)?;
                while list
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > self.window)
                {
                    list.pop_front();
                }
                let oldest = *list.front()?;
                (list.len() >= self.limit * factor).then(|| {
                    self.window
                        .saturating_sub(now.duration_since(oldest))
                        .as_secs()
                        + 1
                })
            })
            .max();
        if wait.is_none() {
            for (key, _) in keys {
                attempts.entry(*key).or_default().push_back(now);
            }
        }
        wait
    }

    /// Takes back the attempt of a successful login and forgets the
    /// account's failures.
    pub fn succeed(&self, username: &str, ip: IpAddr) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let [(user, _), (address, _)] = Self::keys(username, ip);
        attempts.remove(&user);
        if let Some(list) = attempts.get_mut(&address) {
            list.pop_back();
        }
    }

    fn forget_stale(&self, attempts: &mut HashMap<[u8; 16], VecDeque<Instant>>, now: Instant) {
        attempts.retain(|_, list| {
            list.back()
                .is_some_and(|t| now.duration_since(*t) <= self.window)
        });
        if attempts.len() > THROTTLE_KEYS {
            // Still too many: keep the most recently active half.
            let mut newest: Vec<Instant> = attempts
                .values()
                .filter_map(|l| l.back().copied())
                .collect();
            newest.sort_unstable();
            let cut = newest[newest.len() / 2];
            attempts.retain(|_, list| list.back().is_some_and(|t| *t >= cut));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxy = IpAddr::from([10, 0, 0, 1]);
        let client = IpAddr::from([203, 0, 113, 7]);
        let header = Some("198.51.100.1, 203.0.113.7");
        assert_eq!(
            client_ip(client, header, &[proxy]),
            client,
            "untrusted peer"
        );
        assert_eq!(
            client_ip(proxy, header, &[proxy]),
            client,
            "nearest hop wins"
        );
        assert_eq!(client_ip(proxy, None, &[proxy]), proxy);
        assert_eq!(
            client_ip(proxy, Some("junk, 203.0.113.7"), &[proxy]),
            client
        );
        assert_eq!(
            client_ip(proxy, Some("203.0.113.7, junk"), &[proxy]),
            proxy,
            "stop at garbage"
        );
    }

    #[test]
    fn throttle_counts_attempts_before_checking_and_forgives_success() {
        let throttle = Throttle::new(2, Duration::from_secs(60));
        let ip = IpAddr::from([10, 0, 0, 1]);
        assert_eq!(throttle.begin("bob", ip), None);
        assert_eq!(throttle.begin("BOB", ip), None);
        assert!(
            throttle.begin("bob", ip).is_some(),
            "third attempt within the window"
        );
        assert_eq!(
            throttle.begin("carol", ip),
            None,
            "another account from the same address"
        );
        throttle.succeed("carol", ip);
        // The address allows 4× the account limit.
        // Two attempts are on record for the address (carol's was taken
        // back); it allows 4× the account limit, so six more.
        for name in ["d1", "d2", "d3", "d4", "d5", "d6"] {
            assert_eq!(throttle.begin(name, ip), None, "{name}");
        }
        assert!(
            throttle.begin("d7", ip).is_some(),
            "the address is locked out"
        );
        assert_eq!(throttle.begin("d7", IpAddr::from([10, 0, 0, 2])), None);
        // Address-only attempts (registrations) share the address's budget.
        assert!(throttle.begin_address(ip).is_some());
        assert_eq!(throttle.begin_address(IpAddr::from([10, 0, 0, 3])), None);
    }
}

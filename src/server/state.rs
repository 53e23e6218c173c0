//! What every handler shares: settings, stores, the throttle, the preview
//! builder and the logger.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::accounts::AccountStore;
use crate::config::Config;
use crate::store::media::MediaStore;
use crate::store::posts::PostStore;

use super::preview::Preview;

/// Where the server's log lines go (the CLI passes stderr; tests capture).
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

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
    throttle: Throttle,
    preview: Preview,
    ui: super::admin_ui::Templates,
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
        Self {
            inner: Arc::new(Inner {
                posts: PostStore::new(&config),
                media: MediaStore::new(&config),
                config: RwLock::new(Arc::new(config)),
                accounts,
                throttle,
                preview,
                ui: super::admin_ui::Templates::new(),
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

    /// Login throttle.
    pub fn throttle(&self) -> &Throttle {
        &self.inner.throttle
    }

    /// The preview builder.
    pub fn preview(&self) -> &Preview {
        &self.inner.preview
    }

    /// Admin UI templates.
    pub fn ui(&self) -> &super::admin_ui::Templates {
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
        let config = self.config();
        let trusted = &config.server.trusted_proxies;
        if !trusted.contains(&peer) {
            return peer;
        }
        forwarded_for
            .into_iter()
            .flat_map(|h| h.rsplit(','))
            .filter_map(|part| part.trim().parse::<IpAddr>().ok())
            .find(|ip| !trusted.contains(ip))
            .unwrap_or(peer)
    }
}

/// Failed logins per account name and per client address within a window.
/// Unknown names are counted exactly like known ones, so the throttle
/// reveals nothing about who has an account.
#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    /// `limit` failures per account (4× per address) within `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit as usize,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(username: &str, ip: IpAddr) -> [(String, usize); 2] {
        [
            (format!("user:{}", username.to_lowercase()), 1),
            (format!("ip:{ip}"), 4),
        ]
    }

    /// `Some(seconds)` to wait when this account or address is locked out.
    pub fn check(&self, username: &str, ip: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(username, ip)
            .into_iter()
            .filter_map(|(key, factor)| {
                let list = failures.get_mut(&key)?;
                while list
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > self.window)
                {
                    list.pop_front();
                }
                (list.len() >= self.limit * factor).then(|| {
                    let oldest = *list.front()?;
                    Some(
                        self.window
                            .saturating_sub(now.duration_since(oldest))
                            .as_secs()
                            + 1,
                    )
                })?
            })
            .max()
    }

    /// Records a failed attempt.
    pub fn fail(&self, username: &str, ip: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > 100_000 {
            failures.clear();
        }
        for (key, _) in Self::keys(username, ip) {
            failures.entry(key).or_default().push_back(Instant::now());
        }
    }

    /// Forgets an account's failures after it logged in.
    pub fn succeed(&self, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&format!("user:{}", username.to_lowercase()));
    }
}

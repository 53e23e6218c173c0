//! Highlighted code blocks remembered by content, in memory and in
//! `.quire/cache/highlight.bin`, because grammar-based highlighting is the
//! costliest part of parsing (about 1 MB of code per second per core).
//!
//! The output of [`super::highlight`] depends only on the language name, the
//! code and this build of quire, so a block seen before is copied instead of
//! highlighted again: `quire serve` never highlights an unchanged block
//! twice, and a `quire build` after an edit (a full build) or with the
//! output deleted reads the file the previous build saved. A missing,
//! foreign or damaged file is ignored; the cache never changes a result.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, LazyLock, RwLock};

/// Entries kept at most (in memory and in the file): about 25 MB of HTML
/// for typical blocks; past it the memory starts again empty.
const MAX_ENTRIES: usize = 100_000;
const MAGIC: &[u8; 8] = b"quireHL1";

/// What the output depends on besides the block: the grammars (two-face's
/// version, in Cargo.lock) and the class rules, both part of this binary.
fn version() -> &'static str {
    concat!(env!("CARGO_PKG_VERSION"), "+hl1")
}

type Key = [u8; 16];

struct Memo {
    entries: HashMap<Key, Arc<str>>,
    /// Entries added since the file was last written or read.
    added: usize,
}

static MEMO: LazyLock<RwLock<Memo>> = LazyLock::new(|| {
    RwLock::new(Memo {
        entries: HashMap::new(),
        added: 0,
    })
});

/// The key of a block: a hash of its language name and code.
pub(super) fn key(lang: &str, code: &str) -> Key {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&(lang.len() as u64).to_le_bytes());
    hasher.update(lang.as_bytes());
    hasher.update(code.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    key
}

/// The remembered HTML of a block, if any.
pub(super) fn get(key: &Key) -> Option<Arc<str>> {
    let memo = MEMO
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    memo.entries.get(key).cloned()
}

/// Remembers the HTML of a block.
pub(super) fn put(key: Key, html: &str) {
    let mut memo = MEMO
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if memo.entries.len() >= MAX_ENTRIES {
        memo.entries.clear();
    }
    if memo.entries.insert(key, Arc::from(html)).is_none() {
        memo.added += 1;
    }
}

/// Reads the saved blocks from `path` into memory, once per process and
/// file (later calls only return). Errors leave the memory as it was.
pub fn load(path: &Path) {
    static LOADED: LazyLock<RwLock<Vec<std::path::PathBuf>>> =
        LazyLock::new(|| RwLock::new(Vec::new()));
    {
        let mut loaded = LOADED
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if loaded.iter().any(|p| p == path) {
            return;
        }
        loaded.push(path.to_path_buf());
    }
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let Some(entries) = decode(&bytes) else {
        return;
    };
    let mut memo = MEMO
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (key, html) in entries {
        if memo.entries.len() >= MAX_ENTRIES {
            break;
        }
        memo.entries.entry(key).or_insert(html);
    }
}

/// Writes the remembered blocks to `path` (atomically) if any were added
/// since the last save.
pub fn save(path: &Path) -> io::Result<()> {
    let bytes = {
        let mut memo = MEMO
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if memo.added == 0 {
            return Ok(());
        }
        memo.added = 0;
        encode(&memo.entries)
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    crate::fsx::atomic_write(path, &bytes, crate::fsx::Durability::Regenerable)
}

fn encode(entries: &HashMap<Key, Arc<str>>) -> Vec<u8> {
    let size: usize = entries.values().map(|html| html.len() + 20).sum();
    let mut out = Vec::with_capacity(size + 64);
    out.extend_from_slice(MAGIC);
    let version = version().as_bytes();
    out.extend_from_slice(&(version.len() as u32).to_le_bytes());
    out.extend_from_slice(version);
    // Sorted, so the same blocks make the same file.
    let mut keys: Vec<&Key> = entries.keys().collect();
    keys.sort_unstable();
    for key in keys {
        let html = entries[key].as_bytes();
        out.extend_from_slice(key);
        out.extend_from_slice(&(html.len() as u32).to_le_bytes());
        out.extend_from_slice(html);
    }
    out
}

/// The entries of a saved file, or `None` if it is not one this binary
/// wrote (another version, damaged, cut short).
fn decode(bytes: &[u8]) -> Option<Vec<(Key, Arc<str>)>> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (len, rest) = take_u32(rest)?;
    let (version, mut rest) = rest.split_at_checked(len)?;
    if version != self::version().as_bytes() {
        return None;
    }
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let (key, after) = rest.split_at_checked(16)?;
        let (len, after) = take_u32(after)?;
        let (html, after) = after.split_at_checked(len)?;
        let html = std::str::from_utf8(html).ok()?;
        entries.push((key.try_into().ok()?, Arc::from(html)));
        rest = after;
    }
    Some(entries)
}

fn take_u32(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let (len, rest) = bytes.split_at_checked(4)?;
    Some((u32::from_le_bytes(len.try_into().ok()?) as usize, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_file_reads_back_and_a_damaged_one_is_ignored() {
        let mut entries = HashMap::new();
        entries.insert(key("rust", "fn main() {}"), Arc::from("<span>fn</span>"));
        entries.insert(key("py", "x"), Arc::from("x"));
        let bytes = encode(&entries);
        let back: HashMap<Key, Arc<str>> = decode(&bytes).unwrap().into_iter().collect();
        assert_eq!(back, entries);
        assert!(decode(&bytes[..bytes.len() - 1]).is_none(), "cut short");
        assert!(
            decode(b"quireHL1\x03\x00\x00\x00old").is_none(),
            "another version"
        );
        assert!(decode(b"something else").is_none());
        let mut bad_utf8 = bytes.clone();
        let last = bad_utf8.len() - 1;
        bad_utf8[last] = 0xff;
        assert!(decode(&bad_utf8).is_none());
    }

    #[test]
    fn keys_tell_languages_and_code_apart() {
        assert_ne!(key("rust", "x"), key("rus", "tx"));
        assert_ne!(key("rust", "x"), key("rust", "y"));
        assert_eq!(key("rust", "x"), key("rust", "x"));
    }
}

//! The static full-text search index (`[search]`): published posts and
//! pages in, files under `search/` out, read by the theme's `search.js`.
//!
//! A reader's browser loads only what a query needs: `meta.json` (counts
//! and a version), one term shard per query word and the document chunks
//! of the results shown. Terms are sharded by a hash of their first
//! [`PREFIX`] characters, so every completion of a typed prefix lives in one
//! shard; documents come in chunks of [`CHUNK`]. The format, which
//! `search.js` must read the same way:
//!
//! - `meta.json`: `{"version":1,"shards":N,"prefix":3,"chunk":100,"docs":D,"id":"…"}`;
//! - `terms-<s>.txt` for shard `s` in `0..N` (N a power of two):
//!   one line per term, in byte order: `term\tpostings`, postings being
//!   `delta[:weight]` entries joined by `,`: document numbers in rising
//!   order as base-36 differences from the previous one, with the weight
//!   (base 36, default 1) after a colon;
//! - `docs-<c>.json`: documents `c*100 …`, each `[url, title, date, summary]`.
//!
//! Shard of a term: FNV-1a (32 bit) of the UTF-8 of its first `prefix`
//! characters, masked with `N - 1`. Terms are made by [`terms`]: Unicode
//! words (alphabetic and numeric characters), lowercased, accents removed
//! (NFD without combining marks), and each Han or kana character as a word
//! of its own; the browser does the same to the query.
//!
//! Building costs one pass over each page's HTML, in parallel, and one
//! sort per shard, also in parallel. Drafts and scheduled posts never reach
//! it, also in the preview, which shows them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use unicode_normalization::UnicodeNormalization as _;

use crate::build::page::Page;
use crate::config::Config;

/// Characters of a term that pick its shard.
pub const PREFIX: usize = 3;
/// Documents per `docs-<c>.json` file.
pub const CHUNK: usize = 100;
/// Postings per shard aimed at: shards of a few tens of kilobytes.
const POSTINGS_PER_SHARD: usize = 5_000;
/// At most this many shards (a 100,000-post site has about 1,000).
const MAX_SHARDS: usize = 4_096;
/// Longer "words" (hashes, base64) are not worth indexing.
const MAX_TERM_CHARS: usize = 40;
/// Characters of the summary shown under each result.
const SUMMARY_CHARS: usize = 240;
/// Weight of a word in the title, and in a tag, against one in the body.
const TITLE_WEIGHT: u32 = 8;
const TAG_WEIGHT: u32 = 4;

/// The output folder's subfolder for the index.
pub const FOLDER: &str = "search/";

/// Whether `page` may be found by readers: published and due.
pub fn is_searchable(page: &Page, now: DateTime<Utc>) -> bool {
    !page.draft && page.date.is_none_or(|date| date.with_timezone(&Utc) <= now)
}

/// What `quire serve` keeps between builds, so that an edit re-indexes
/// only its page and rewrites only the shards whose terms it changed.
#[derive(Default)]
pub struct SearchMemory {
    /// Each page's terms, by page fingerprint.
    docs: HashMap<u64, Arc<DocTerms>>,
    last: Option<LastIndex>,
}

impl std::fmt::Debug for SearchMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchMemory")
            .field("docs", &self.docs.len())
            .finish_non_exhaustive()
    }
}

/// The last index written: its pages (fingerprints, in order), shard count
/// and files.
struct LastIndex {
    order: Vec<u64>,
    shards: usize,
    files: std::collections::BTreeMap<String, IndexFile>,
}

/// One file of the index: its bytes and their hash (the one the build's
/// output records use).
#[derive(Clone, Debug)]
pub struct IndexFile {
    /// A hash of `bytes`.
    pub hash: u64,
    /// The contents.
    pub bytes: Arc<[u8]>,
}

impl IndexFile {
    fn new(bytes: Vec<u8>) -> Self {
        Self {
            hash: crate::build::bytes_hash(&bytes),
            bytes: Arc::from(bytes),
        }
    }
}

/// Pages changed at most this many at once are patched into the last
/// index; more, and it is built again.
const MAX_PATCHED: usize = 64;

/// The index files for `pages` (in the order given, which is the order of
/// equal-scored results), as paths under the output folder with their
/// bytes. With `memory`, unchanged pages are not read again and, when
/// only a few pages changed in place, only the files they touch are made.
pub fn index_files(
    pages: &[&Page],
    config: &Config,
    memory: Option<&mut SearchMemory>,
) -> Vec<(String, IndexFile)> {
    let mut scratch = SearchMemory::default();
    let memory = memory.unwrap_or(&mut scratch);
    let order: Vec<u64> = pages.iter().map(|page| page.fingerprint).collect();
    let known = &memory.docs;
    let docs: Vec<Arc<DocTerms>> = pages
        .par_iter()
        .map(|page| match known.get(&page.fingerprint) {
            Some(doc) => Arc::clone(doc),
            None => Arc::new(DocTerms::of(page, config)),
        })
        .collect();
    let postings: usize = docs.iter().map(|doc| doc.terms.len()).sum();
    let wanted = (postings / POSTINGS_PER_SHARD)
        .max(1)
        .next_power_of_two()
        .min(MAX_SHARDS);
    // The shard count stays while the index is within 4× of its size, so
    // an edit does not move every term.
    let last = memory.last.take().filter(|last| {
        last.order.len() == order.len() && last.shards * 4 > wanted && last.shards < wanted * 4
    });
    let shards = last.as_ref().map_or(wanted, |last| last.shards);
    let mask = (shards - 1) as u32;
    let docs: Vec<Arc<DocTerms>> = docs
        .into_par_iter()
        .map(|mut doc| {
            if doc.mask != Some(mask) {
                Arc::make_mut(&mut doc).sort(mask);
            }
            doc
        })
        .collect();
    let changed: Vec<usize> = match &last {
        Some(last) => (0..order.len())
            .filter(|&i| last.order[i] != order[i])
            .collect(),
        None => Vec::new(),
    };
    let patch = last
        .filter(|_| changed.len() <= MAX_PATCHED)
        .and_then(|last| {
            // The shards whose terms or weights differ between old and new
            // (the old pages were sorted with this mask: the shard count
            // is the last index's).
            let mut dirty = std::collections::BTreeSet::new();
            for &i in &changed {
                let old = memory.docs.get(&last.order[i])?;
                differing_shards(old, &docs[i], mask, &mut dirty);
            }
            Some((last, dirty))
        });
    // The fingerprints that leave the memory if the last index is patched.
    let replaced: Option<Vec<u64>> = patch
        .as_ref()
        .map(|(last, _)| changed.iter().map(|&i| last.order[i]).collect());
    let mut files = match patch {
        Some((mut last, dirty)) => {
            let made: Vec<(String, IndexFile)> = dirty
                .par_iter()
                .map(|&shard| patched_shard(&last.files, &changed, &docs, shard, mask))
                .collect();
            last.files.extend(made);
            let chunks: std::collections::BTreeSet<usize> =
                changed.iter().map(|i| i / CHUNK).collect();
            for n in chunks {
                let (path, bytes) = docs_file(&docs, n);
                last.files.insert(path, IndexFile::new(bytes));
            }
            last.files
        }
        None => {
            let mut files: std::collections::BTreeMap<String, IndexFile> = (0..shards as u32)
                .into_par_iter()
                .chunks(shards.div_ceil(64).max(1))
                .flat_map_iter(|group| {
                    let range = group[0]..group[group.len() - 1] + 1;
                    let first = range.start;
                    shard_texts(&docs, range, mask)
                        .into_iter()
                        .enumerate()
                        .map(move |(i, text)| {
                            (
                                shard_name(first + i as u32),
                                IndexFile::new(text.into_bytes()),
                            )
                        })
                })
                .collect();
            files.extend(
                (0..docs.len().div_ceil(CHUNK))
                    .into_par_iter()
                    .map(|n| {
                        let (path, bytes) = docs_file(&docs, n);
                        (path, IndexFile::new(bytes))
                    })
                    .collect::<Vec<_>>(),
            );
            files
        }
    };
    let meta_path = format!("{FOLDER}meta.json");
    files.remove(&meta_path);
    // The version changes whenever any file does, so browsers and CDNs
    // never mix shards of two builds.
    let mut hasher = blake3::Hasher::new();
    for (path, file) in &files {
        hasher.update(path.as_bytes());
        hasher.update(&file.hash.to_le_bytes());
    }
    let id = hasher.finalize().to_hex()[..16].to_string();
    let meta = serde_json::json!({
        "version": 1,
        "shards": shards,
        "prefix": PREFIX,
        "chunk": CHUNK,
        "docs": docs.len(),
        "id": id,
    });
    files.insert(
        meta_path,
        IndexFile::new(serde_json::to_vec(&meta).unwrap_or_default()),
    );
    let result: Vec<(String, IndexFile)> = files
        .iter()
        .map(|(path, file)| (path.clone(), file.clone()))
        .collect();
    match replaced {
        // Only the changed pages come and go (all old ones first: a page
        // that moved may be another's old fingerprint).
        Some(replaced) => {
            for fingerprint in replaced {
                memory.docs.remove(&fingerprint);
            }
            for &i in &changed {
                memory.docs.insert(order[i], Arc::clone(&docs[i]));
            }
        }
        None => {
            memory.docs = order
                .iter()
                .zip(&docs)
                .map(|(fingerprint, doc)| (*fingerprint, Arc::clone(doc)))
                .collect();
        }
    }
    memory.last = Some(LastIndex {
        order,
        shards,
        files,
    });
    result
}

fn shard_name(shard: u32) -> String {
    format!("{FOLDER}terms-{shard}.txt")
}

/// Shard `shard` after the pages at positions `changed` took their terms
/// in `docs`: the last text (`files`) minus the changed pages' old
/// postings, plus their new ones, so the work follows the size of one
/// shard, not the number of pages; made from scratch without a last text.
fn patched_shard(
    files: &std::collections::BTreeMap<String, IndexFile>,
    changed: &[usize],
    docs: &[Arc<DocTerms>],
    shard: u32,
    mask: u32,
) -> (String, IndexFile) {
    let path = shard_name(shard);
    let patched = files
        .get(&path)
        .and_then(|old| patch_shard_text(&old.bytes, changed, docs, shard, mask));
    let text = patched.unwrap_or_else(|| {
        shard_texts(docs, shard..shard + 1, mask)
            .pop()
            .unwrap_or_default()
    });
    (path, IndexFile::new(text.into_bytes()))
}

fn docs_file(docs: &[Arc<DocTerms>], n: usize) -> (String, Vec<u8>) {
    let end = ((n + 1) * CHUNK).min(docs.len());
    let rows: Vec<&serde_json::Value> = docs[n * CHUNK..end].iter().map(|doc| &doc.meta).collect();
    let bytes = serde_json::to_vec(&rows).unwrap_or_default();
    (format!("{FOLDER}docs-{n}.json"), bytes)
}

/// Adds to `dirty` the shards (under `mask`) where `old` and `new` have
/// different terms or weights.
fn differing_shards(
    old: &DocTerms,
    new: &DocTerms,
    mask: u32,
    dirty: &mut std::collections::BTreeSet<u32>,
) {
    let entry =
        |doc: &DocTerms, t: &(u32, u32, u16, u16)| (t.0 & mask, doc.word(t).to_string(), t.3);
    let old: std::collections::BTreeSet<_> = old.terms.iter().map(|t| entry(old, t)).collect();
    let new: std::collections::BTreeSet<_> = new.terms.iter().map(|t| entry(new, t)).collect();
    for (shard, _, _) in old.symmetric_difference(&new) {
        dirty.insert(*shard);
    }
}

/// One document's terms with their weights and shards, and what a result
/// shows of it.
#[derive(Clone)]
struct DocTerms {
    /// Lowercased, accent-free words, one after another.
    text: String,
    /// (shard hash, start in `text`, length, weight).
    terms: Vec<(u32, u32, u16, u16)>,
    /// The shard mask `terms` is sorted by, if any.
    mask: Option<u32>,
    meta: serde_json::Value,
}

impl DocTerms {
    fn of(page: &Page, config: &Config) -> Self {
        let mut weights: HashMap<String, u32, WordHash> =
            HashMap::with_capacity_and_hasher(512, WordHash);
        let mut add = |text: &str, weight: u32| {
            terms(text, |term| match weights.get_mut(term) {
                Some(total) => *total += weight,
                None => {
                    weights.insert(term.to_string(), weight);
                }
            });
        };
        add(&page.title, TITLE_WEIGHT);
        for tag in &page.tags {
            add(tag, TAG_WEIGHT);
        }
        add(&page.description, 1);
        add(&html_text(&page.content_html), 1);
        let mut text = String::new();
        let terms: Vec<(u32, u32, u16, u16)> = weights
            .into_iter()
            .map(|(term, weight)| {
                let start = text.len() as u32;
                text.push_str(&term);
                (
                    shard_hash(&term),
                    start,
                    term.len() as u16,
                    weight.min(u32::from(u16::MAX)) as u16,
                )
            })
            .collect();
        let summary = if page.description.trim().is_empty() {
            html_text(&page.summary_html)
        } else {
            page.description.clone()
        };
        let meta = serde_json::json!([
            format!("{}{}", config.base_path, page.url_path),
            page.title,
            page.date
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            shorten(
                summary.split_whitespace().collect::<Vec<_>>().join(" "),
                SUMMARY_CHARS
            ),
        ]);
        Self {
            text,
            terms,
            mask: None,
            meta,
        }
    }

    fn word(&self, term: &(u32, u32, u16, u16)) -> &str {
        word_in(&self.text, term)
    }

    /// The terms that land in `shards` under `mask` (the terms sorted by
    /// it), one run.
    fn in_shards(&self, shards: &std::ops::Range<u32>, mask: u32) -> &[(u32, u32, u16, u16)] {
        let start = self.terms.partition_point(|t| t.0 & mask < shards.start);
        let len = self.terms[start..].partition_point(|t| t.0 & mask < shards.end);
        &self.terms[start..start + len]
    }

    /// Sorts the terms by shard, so each shard's are one run.
    fn sort(&mut self, mask: u32) {
        self.mask = Some(mask);
        let text = &self.text;
        self.terms.sort_unstable_by(|a, b| {
            (a.0 & mask)
                .cmp(&(b.0 & mask))
                .then_with(|| word_in(text, a).cmp(word_in(text, b)))
        });
    }
}

/// The word of `term` in a document's `text`.
fn word_in<'t>(text: &'t str, term: &(u32, u32, u16, u16)) -> &'t str {
    &text[term.1 as usize..term.1 as usize + term.2 as usize]
}

/// One shard's terms → (document number, weight), documents in order.
type Postings<'d> = HashMap<&'d str, Vec<(u32, u16)>, WordHash>;

/// The texts of shards `shards` (a range, so that one pass over the
/// documents serves several): every term whose hash lands in each, with its
/// postings over all documents.
fn shard_texts(docs: &[Arc<DocTerms>], shards: std::ops::Range<u32>, mask: u32) -> Vec<String> {
    let mut postings: Vec<Postings<'_>> = shards.clone().map(|_| HashMap::default()).collect();
    for (n, doc) in docs.iter().enumerate() {
        for term in doc.in_shards(&shards, mask) {
            postings[((term.0 & mask) - shards.start) as usize]
                .entry(doc.word(term))
                .or_default()
                .push((n as u32, term.3));
        }
    }
    postings
        .into_iter()
        .map(|shard| shard_text(&shard))
        .collect()
}

/// The text of shard `shard` after the pages at positions `changed`
/// (sorted) took their new terms from `docs`, made from `old`, its text
/// before. `None` if `old` is not a shard text this module wrote.
fn patch_shard_text(
    old: &[u8],
    changed: &[usize],
    docs: &[Arc<DocTerms>],
    shard: u32,
    mask: u32,
) -> Option<String> {
    let old = std::str::from_utf8(old).ok()?;
    let mut postings: Postings<'_> = HashMap::default();
    for line in old.lines() {
        let (word, list) = line.split_once('\t')?;
        let mut doc = 0u32;
        let mut kept = Vec::new();
        for entry in list.split(',') {
            let (delta, weight) = match entry.split_once(':') {
                Some((delta, weight)) => (delta, u16::try_from(base36(weight)?).ok()?),
                None => (entry, 1),
            };
            doc = doc.checked_add(base36(delta)?)?;
            if changed.binary_search(&(doc as usize)).is_err() {
                kept.push((doc, weight));
            }
        }
        if !kept.is_empty() {
            postings.insert(word, kept);
        }
    }
    let mut touched = Vec::new();
    for &n in changed {
        let doc = docs.get(n)?;
        for term in doc.in_shards(&(shard..shard + 1), mask) {
            let word = doc.word(term);
            postings.entry(word).or_default().push((n as u32, term.3));
            touched.push(word);
        }
    }
    for word in touched {
        if let Some(list) = postings.get_mut(word) {
            list.sort_unstable_by_key(|(doc, _)| *doc);
        }
    }
    Some(shard_text(&postings))
}

fn base36(digits: &str) -> Option<u32> {
    u32::from_str_radix(digits, 36).ok()
}

fn shard_text(postings: &Postings<'_>) -> String {
    let mut words: Vec<&str> = postings.keys().copied().collect();
    words.sort_unstable();
    let mut out = String::new();
    for word in words {
        out.push_str(word);
        out.push('\t');
        let mut last = 0;
        for (i, (doc, weight)) in postings[word].iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_base36(&mut out, doc - last);
            last = *doc;
            if *weight != 1 {
                out.push(':');
                push_base36(&mut out, u32::from(*weight));
            }
        }
        out.push('\n');
    }
    out
}

/// A fast hash for the index's own maps: keys are short words, where
/// SipHash's setup costs more than the hashing (no keys come from outside
/// the site, so no flooding defence is needed).
#[derive(Default, Clone, Copy)]
struct WordHash;

impl std::hash::BuildHasher for WordHash {
    type Hasher = WordHasher;
    fn build_hasher(&self) -> WordHasher {
        WordHasher(0xcbf2_9ce4_8422_2325)
    }
}

struct WordHasher(u64);

impl std::hash::Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn push_base36(out: &mut String, mut n: u32) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut buf = [0u8; 8];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = DIGITS[(n % 36) as usize];
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

/// FNV-1a over the UTF-8 of the term's first [`PREFIX`] characters.
fn shard_hash(term: &str) -> u32 {
    let end = term
        .char_indices()
        .nth(PREFIX)
        .map_or(term.len(), |(i, _)| i);
    let mut hash: u32 = 0x811c_9dc5;
    for byte in &term.as_bytes()[..end] {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Calls `each` with every search term of `text`, in order (see the module
/// documentation; `search.js` splits queries the same way). ASCII words,
/// nearly all of most sites, are lowercased without being copied twice.
pub fn terms(text: &str, mut each: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut buf = String::new();
    let mut emit = |word: &str, buf: &mut String| {
        buf.clear();
        if word.is_ascii() {
            buf.push_str(word);
            buf.make_ascii_lowercase();
        } else {
            buf.push_str(&fold(word));
        }
        let short = buf.len() <= MAX_TERM_CHARS || buf.chars().count() <= MAX_TERM_CHARS;
        if !buf.is_empty() && short {
            each(buf);
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 && !b.is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        if b < 0x80 {
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            if i == bytes.len() || bytes[i] < 0x80 {
                emit(&text[start..i], &mut buf);
                continue;
            }
        }
        // A word with other characters: walk it by characters.
        let mut end = i;
        for c in text[i..].chars() {
            if is_ideograph(c) {
                // An ideograph is a word of its own.
                if end == start {
                    end += c.len_utf8();
                }
                break;
            }
            if !(c.is_alphabetic() || c.is_numeric()) {
                break;
            }
            end += c.len_utf8();
        }
        if end == start {
            // Neither a word character nor an ideograph: skip it.
            i = start + text[start..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        emit(&text[start..end], &mut buf);
        i = end;
    }
}

/// Lowercase without accents: NFD, combining marks dropped.
fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Han and kana: written without spaces, so each is a word.
fn is_ideograph(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

/// The text of rendered HTML: tags dropped, entities decoded, blocks apart.
pub fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find(['<', '&']) {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        if rest.starts_with('<') {
            match rest.find('>') {
                Some(gt) => {
                    // A tag separates words only where the browser would.
                    let tag = &rest[1..gt];
                    if !tag.starts_with("span") && !tag.starts_with("/span") && !is_inline(tag) {
                        out.push(' ');
                    }
                    rest = &rest[gt + 1..];
                }
                None => {
                    rest = "";
                }
            }
        } else {
            let end = rest[1..].find(';').map(|i| i + 1).filter(|&i| i <= 10);
            match end.and_then(|end| entity(&rest[1..end]).map(|c| (c, end))) {
                Some((c, end)) => {
                    out.push(c);
                    rest = &rest[end + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_inline(tag: &str) -> bool {
    let name = tag
        .trim_start_matches('/')
        .split([' ', '>', '/'])
        .next()
        .unwrap_or("");
    matches!(
        name,
        "a" | "em"
            | "strong"
            | "code"
            | "b"
            | "i"
            | "u"
            | "s"
            | "del"
            | "ins"
            | "mark"
            | "sub"
            | "sup"
            | "small"
            | "abbr"
            | "kbd"
            | "q"
    )
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

fn shorten(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text,
        Some((end, _)) => {
            let cut = text[..end].rfind(' ').unwrap_or(end);
            let mut short = text[..cut].trim_end().to_string();
            short.push('…');
            short
        }
    }
}

/// The shard of `term` among `shards` (tests and tools; the browser
/// computes the same).
pub fn shard_of(term: &str, shards: usize) -> usize {
    (shard_hash(term) & (shards as u32).saturating_sub(1)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_terms(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        terms(text, |t| out.push(t.to_string()));
        out
    }

    #[test]
    fn words_are_lowercased_unaccented_and_split_on_anything_else() {
        assert_eq!(
            all_terms("Crème Brûlée, naïve-café: Rust's 2024 ÉTÉ"),
            [
                "creme", "brulee", "naive", "cafe", "rust", "s", "2024", "ete"
            ]
        );
        assert_eq!(
            all_terms("東京タワー is tall"),
            ["東", "京", "タ", "ワ", "ー", "is", "tall"]
        );
        assert_eq!(all_terms(&"x".repeat(41)), Vec::<String>::new());
    }

    #[test]
    fn html_text_drops_tags_and_decodes_entities() {
        assert_eq!(
            html_text("<p>Fish &amp; <em>chips</em></p><p>x&lt;y &#233;&#x41; &bogus; a&b</p>"),
            " Fish & chips  x<y éA &bogus; a&b "
        );
        assert_eq!(
            html_text("<code><span class=\"hl-kw\">fn</span>main</code>"),
            "fnmain"
        );
    }

    #[test]
    fn base36_and_shards() {
        let mut s = String::new();
        for n in [0, 35, 36, 1295, u32::MAX] {
            push_base36(&mut s, n);
            s.push(' ');
        }
        assert_eq!(s, "0 z 10 zz 1z141z3 ");
        // Every completion of a prefix lands in the prefix's shard.
        assert_eq!(shard_of("search", 64), shard_of("sea", 64));
        assert_eq!(shard_of("seashell", 64), shard_of("sea", 64));
        assert_eq!(shard_of("anything", 1), 0);
        // Known value, which search.js must agree with.
        // Known FNV-1a values, which search.js must agree with.
        assert_eq!(shard_hash("sea"), 0xb926_f28c);
        assert_eq!(shard_hash("seashell"), 0xb926_f28c);
        assert_eq!(shard_hash("é"), 0x1e9d_e8c1);
    }

    fn doc(words: &[(&str, u16)], mask: u32) -> Arc<DocTerms> {
        let mut text = String::new();
        let terms = words
            .iter()
            .map(|(word, weight)| {
                let start = text.len() as u32;
                text.push_str(word);
                (shard_hash(word), start, word.len() as u16, *weight)
            })
            .collect();
        let mut doc = DocTerms {
            text,
            terms,
            mask: None,
            meta: serde_json::Value::Null,
        };
        doc.sort(mask);
        Arc::new(doc)
    }

    #[test]
    fn a_patched_shard_is_the_shard_built_from_scratch() {
        let mask = 7;
        let vocab = [
            "rust", "search", "sea", "seashell", "build", "café", "東", "zola", "hugo", "page",
            "x1", "2024", "tera", "index", "shard", "weight",
        ];
        // 40 pages, each with a few words of the vocabulary and weights.
        let words = |n: usize| -> Vec<(&str, u16)> {
            (0..vocab.len())
                .filter(|w| (n * 7 + w * 3) % 5 < 2)
                .map(|w| (vocab[w], 1 + u16::from((n + w).is_multiple_of(3)) * 8))
                .collect()
        };
        let old: Vec<Arc<DocTerms>> = (0..40).map(|n| doc(&words(n), mask)).collect();
        let mut new = old.clone();
        // A word gone and one added, a weight changed, a page emptied,
        // the last page given a word no page had.
        let mut first = words(0);
        first.remove(0);
        first.push(("brand", 1));
        new[0] = doc(&first, mask);
        let mut seventh = words(7);
        seventh[0].1 = 300;
        new[7] = doc(&seventh, mask);
        new[20] = doc(&[], mask);
        new[39] = doc(&[("quokka", 2), ("rust", 1)], mask);
        let changed = [0, 7, 20, 39];
        let mut differing = 0;
        for shard in 0..=mask {
            let before = shard_texts(&old, shard..shard + 1, mask).pop().unwrap();
            let after = shard_texts(&new, shard..shard + 1, mask).pop().unwrap();
            differing += usize::from(before != after);
            let patched = patch_shard_text(before.as_bytes(), &changed, &new, shard, mask);
            assert_eq!(patched.as_deref(), Some(after.as_str()), "shard {shard}");
        }
        assert!(differing >= 3, "the changes reach several shards");
        assert!(patch_shard_text(b"word\t1,!", &changed, &new, 0, mask).is_none());
        assert!(patch_shard_text(b"no tab", &changed, &new, 0, mask).is_none());
    }

    #[test]
    fn long_summaries_are_cut_at_a_word() {
        assert_eq!(shorten("one two three".into(), 9), "one two…");
        assert_eq!(shorten("short".into(), 9), "short");
    }
}

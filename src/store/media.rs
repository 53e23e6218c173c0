//! Uploaded images: checked by decoding, stripped of metadata, stored
//! under a server-chosen name, with the uploader recorded.
//!
//! The type comes from the bytes alone (JPEG, PNG, GIF, WebP; SVG and
//! everything else refused); then the image goes through the build's own
//! [`source::decode`] (header against the limits before any pixel, every
//! pixel under the memory limit), so an upload is accepted exactly when the
//! build could publish it, and a truncated or hostile file never reaches
//! media/.
//! Stored originals lose EXIF, XMP, IPTC and text chunks (GPS included);
//! when EXIF said to rotate, the rotation is applied to the pixels first.
//! Who uploaded what is kept in `.quire/media.toml`, beside the credentials.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use image::metadata::Orientation;
use serde::{Deserialize, Serialize};

use crate::build::images::process;
use crate::build::images::source::{self, Decoded, Pixels};
use crate::build::images::{OutFormat, SourceFormat};
use crate::build::page::Slug;
use crate::config::{Config, ImageSettings};
use crate::fsx::{Durability, FileStamp};
use crate::store::listing::{ListError, Order, Paged, Paging, search_terms};

/// Longest side of a stored avatar.
pub const AVATAR_SIZE: u32 = 480;

/// Longest side of the thumbnails the media library and picker show.
pub const THUMBNAIL_SIZE: u32 = 320;

/// Why an upload or a media operation failed; each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Over the byte limit (413).
    #[error("the file is larger than the upload limit of {limit_mib} MiB (server.max_upload_mib)")]
    TooLarge {
        /// The limit.
        limit_mib: u64,
    },
    /// Not a supported raster image (415).
    #[error("{0}")]
    Unsupported(String),
    /// A supported type that does not decode, or is over a limit (422).
    #[error("{0}")]
    Undecodable(String),
    /// Not a path of a file in media/ (400).
    #[error(
        "`{0}` is not a media path: use the `path` an upload returned, such as `uploads/2026/05/photo-1a2b3c.jpg`"
    )]
    InvalidPath(String),
    /// No such file (404).
    #[error("there is no media file `{0}`")]
    NotFound(String),
    /// Posts still show it (409).
    #[error("`{path}` is used by {}; remove it from them first", .users.join(", "))]
    InUse {
        /// The file.
        path: String,
        /// Files that refer to it.
        users: Vec<String>,
    },
    /// Disk trouble (500).
    #[error("cannot write {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
}

/// A stored upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// Path relative to media/, the id in the API.
    pub path: String,
    /// Width in pixels (upright).
    pub width: u32,
    /// Height in pixels (upright).
    pub height: u32,
}

/// One file of the media library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaItem {
    /// Path relative to media/.
    pub path: String,
    /// Site URL of the original.
    pub url: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Width, for images.
    pub width: Option<u32>,
    /// Height, for images.
    pub height: Option<u32>,
    /// Who uploaded it (none for files put there by hand).
    pub uploader: Option<String>,
    /// When.
    pub uploaded: Option<String>,
}

/// `pixels` scaled down to fit `size`×`size` (as they are if they fit).
fn fit_within(pixels: Pixels, size: u32) -> Result<Pixels, MediaError> {
    let scale = f64::from(size) / f64::from(pixels.width.max(pixels.height));
    if scale >= 1.0 {
        return Ok(pixels);
    }
    let width = ((f64::from(pixels.width) * scale).round() as u32).max(1);
    let height = ((f64::from(pixels.height) * scale).round() as u32).max(1);
    let mut resizer = fast_image_resize::Resizer::new();
    process::resize(
        &pixels,
        width,
        height,
        crate::build::images::Crop::Fit,
        &mut resizer,
    )
    .map_err(MediaError::Undecodable)
}

/// Image sizes by media path, with the stamp of the file they were read from.
type DimensionCache = HashMap<String, (FileStamp, Option<(u32, u32)>)>;

/// What a media list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaSort {
    /// Upload time (files put in media/ by hand count as oldest).
    Uploaded,
    /// The path, A–Z.
    Name,
    /// The size in bytes.
    Size,
}

impl std::str::FromStr for MediaSort {
    type Err = ListError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "uploaded" => Ok(Self::Uploaded),
            "name" => Ok(Self::Name),
            "size" => Ok(Self::Size),
            _ => Err(ListError::new("sort", text, "`uploaded`, `name` or `size`")),
        }
    }
}

/// Which media files a list shows, in which order, which page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaQuery {
    /// Only files whose path contains every word of this (ignoring case).
    pub text: Option<String>,
    /// Only files this username uploaded.
    pub uploader: Option<String>,
    /// Sort key.
    pub sort: MediaSort,
    /// Direction.
    pub order: Order,
    /// Which page.
    pub paging: Paging,
}

impl Default for MediaQuery {
    fn default() -> Self {
        Self {
            text: None,
            uploader: None,
            sort: MediaSort::Uploaded,
            order: Order::Desc,
            paging: Paging::default(),
        }
    }
}

/// The page `query` asks for of `items`.
pub fn query_media(items: Vec<MediaItem>, query: &MediaQuery) -> Paged<MediaItem> {
    let terms = search_terms(query.text.as_deref());
    let mut found: Vec<MediaItem> = items
        .into_iter()
        .filter(|item| {
            let path = item.path.to_lowercase();
            terms.iter().all(|t| path.contains(t.as_str()))
                && query
                    .uploader
                    .as_deref()
                    .is_none_or(|u| item.uploader.as_deref() == Some(u))
        })
        .collect();
    found.sort_by(|a, b| {
        let ordering = match query.sort {
            MediaSort::Uploaded => a.uploaded.cmp(&b.uploaded),
            MediaSort::Name => a.path.to_lowercase().cmp(&b.path.to_lowercase()),
            MediaSort::Size => a.bytes.cmp(&b.bytes),
        };
        query
            .order
            .apply(ordering)
            .then_with(|| a.path.cmp(&b.path))
    });
    Paged::of(found, query.paging)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Owners {
    #[serde(default)]
    files: BTreeMap<String, Owner>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Owner {
    uploader: String,
    uploaded: String,
}

/// media/ plus the ownership records.
#[derive(Debug)]
pub struct MediaStore {
    media_dir: PathBuf,
    content_dir: PathBuf,
    owners_file: PathBuf,
    trash: PathBuf,
    settings: ImageSettings,
    max_upload: u64,
    thumbs: PathBuf,
    lock: Mutex<()>,
    /// Image sizes already read, so a listing does not open every file.
    dimensions: Mutex<DimensionCache>,
}

/// A checked upload, ready to store.
struct Accepted {
    bytes: Vec<u8>,
    extension: &'static str,
    width: u32,
    height: u32,
}

impl MediaStore {
    /// The media of `config`'s site.
    pub fn new(config: &Config) -> Self {
        Self {
            media_dir: config.media_dir(),
            content_dir: config.content_dir(),
            owners_file: config.root.join(".quire/media.toml"),
            trash: config.root.join(".quire/trash/media"),
            settings: config.images.clone(),
            max_upload: config.server.max_upload,
            thumbs: config.root.join(".quire/thumbs"),
            lock: Mutex::new(()),
            dimensions: Mutex::default(),
        }
    }

    /// The upload size limit in bytes.
    pub fn max_upload(&self) -> u64 {
        self.max_upload
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks and stores an upload as `uploads/YYYY/MM/<name>-<random>.<ext>`.
    pub fn upload(
        &self,
        bytes: &[u8],
        original_name: Option<&str>,
        uploader: &str,
        now: DateTime<Utc>,
    ) -> Result<Stored, MediaError> {
        let accepted = self.accept(bytes)?;
        let stem = original_name
            .map(|n| {
                Path::new(n)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
            })
            .and_then(Slug::from_title)
            .map_or_else(|| "image".to_string(), |s| truncate(s.as_str(), 40));
        let folder = format!("uploads/{}", now.format("%Y/%m"));
        self.store(&folder, &stem, &accepted, uploader, now)
    }

    /// Checks an avatar, scales it to fit 480×480 and stores it under
    /// `avatars/`.
    pub fn upload_avatar(
        &self,
        bytes: &[u8],
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<Stored, MediaError> {
        let pixels = self
            .decode(bytes)?
            .into_srgb()
            .map_err(MediaError::Undecodable)?;
        let pixels = fit_within(pixels, AVATAR_SIZE)?;
        let accepted = self.encode(&pixels, 92)?;
        self.store("avatars", username, &accepted, username, now)
    }

    /// A small JPEG (PNG with transparency) of the image at `path`, at most
    /// [`THUMBNAIL_SIZE`] on its longest side, and its MIME type: what the
    /// media library shows instead of multi-megabyte originals. Made once
    /// per version of the file and kept in `.quire/thumbs/`.
    pub fn thumbnail(&self, path: &str) -> Result<(Vec<u8>, &'static str), MediaError> {
        let rel = self.resolve(path)?;
        let file = self.media_dir.join(&rel);
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| MediaError::Io { path, source }
        };
        let meta = std::fs::metadata(&file).map_err(io_err(&file))?;
        let key = format!("{rel}\0{:?}", FileStamp::of(&meta));
        let name = blake3::hash(key.as_bytes()).to_hex();
        for (extension, mime) in [("jpg", "image/jpeg"), ("png", "image/png")] {
            let cached = self.thumbs.join(format!("{}.{extension}", &name[..32]));
            if let Ok(bytes) = std::fs::read(&cached) {
                return Ok((bytes, mime));
            }
        }
        let bytes = std::fs::read(&file).map_err(io_err(&file))?;
        if source::sniff(&bytes).is_none() {
            return Err(unsupported(&bytes));
        }
        let pixels = source::decode(&bytes, &self.settings)
            .and_then(source::Decoded::into_srgb)
            .map_err(MediaError::Undecodable)?;
        let accepted = self.encode(&fit_within(pixels, THUMBNAIL_SIZE)?, 80)?;
        let mime = if accepted.extension == "png" {
            "image/png"
        } else {
            "image/jpeg"
        };
        let cached = self
            .thumbs
            .join(format!("{}.{}", &name[..32], accepted.extension));
        // A cache: a failed write costs only the next request's time.
        let _ = std::fs::create_dir_all(&self.thumbs).and_then(|()| {
            crate::fsx::atomic_write(&cached, &accepted.bytes, Durability::Regenerable)
        });
        Ok((accepted.bytes, mime))
    }

    /// Re-encodes pixels as JPEG at `quality` (PNG with transparency).
    fn encode(&self, pixels: &Pixels, quality: u8) -> Result<Accepted, MediaError> {
        let mut settings = self.settings.clone();
        settings.jpeg_quality = quality;
        let (format, extension) = if pixels.alpha {
            (OutFormat::Png, "png")
        } else {
            (OutFormat::Jpeg, "jpg")
        };
        let bytes = process::encode(pixels, format, &settings).map_err(MediaError::Undecodable)?;
        Ok(Accepted {
            bytes,
            extension,
            width: pixels.width,
            height: pixels.height,
        })
    }

    fn store(
        &self,
        folder: &str,
        stem: &str,
        accepted: &Accepted,
        uploader: &str,
        now: DateTime<Utc>,
    ) -> Result<Stored, MediaError> {
        let dir = self.media_dir.join(folder);
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| MediaError::Io { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let _guard = self.guard();
        let mut owners = self.read_owners()?;
        loop {
            let random = &crate::accounts::random_token()[..8];
            let rel = format!("{folder}/{stem}-{random}.{}", accepted.extension);
            let path = self.media_dir.join(&rel);
            match crate::fsx::create_new_atomic(&path, &accepted.bytes) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(MediaError::Io { path, source }),
            }
            owners.files.insert(
                rel.clone(),
                Owner {
                    uploader: uploader.to_string(),
                    uploaded: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                },
            );
            if let Err(err) = self.write_owners(&owners) {
                let _ = std::fs::remove_file(&path);
                return Err(err);
            }
            return Ok(Stored {
                path: rel,
                width: accepted.width,
                height: accepted.height,
            });
        }
    }

    /// The ownership records; a damaged file is an error, never an empty
    /// map that the next write would replace.
    fn read_owners(&self) -> Result<Owners, MediaError> {
        let io_err = |source| MediaError::Io {
            path: self.owners_file.clone(),
            source,
        };
        match std::fs::read_to_string(&self.owners_file) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| io_err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()))),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Owners::default()),
            Err(err) => Err(io_err(err)),
        }
    }

    fn write_owners(&self, owners: &Owners) -> Result<(), MediaError> {
        let io_err = |source| MediaError::Io {
            path: self.owners_file.clone(),
            source,
        };
        let text = toml::to_string(owners).map_err(|e| io_err(io::Error::other(e)))?;
        if let Some(parent) = self.owners_file.parent() {
            std::fs::create_dir_all(parent).map_err(io_err)?;
        }
        crate::fsx::atomic_write(&self.owners_file, text.as_bytes(), Durability::Synced)
            .map_err(io_err)
    }

    /// Decides whether `bytes` may be stored, and in which form: the
    /// original without its metadata when the decoder read every pixel and
    /// nothing needs turning, else the pixels encoded again.
    fn accept(&self, bytes: &[u8]) -> Result<Accepted, MediaError> {
        let decoded = self.decode(bytes)?;
        let header = decoded.header;
        if header.orientation != Orientation::NoTransforms && header.format != SourceFormat::Gif {
            // Rotating means re-encoding the upright pixels.
            return self.encode_decoded(decoded);
        }
        let (stripped, extension) = match header.format {
            SourceFormat::Jpeg => (strip_jpeg(bytes), "jpg"),
            SourceFormat::Png => (strip_png(bytes), "png"),
            SourceFormat::Webp => (strip_webp(bytes), "webp"),
            SourceFormat::Gif => (strip_gif(bytes), "gif"),
        };
        match stripped {
            Some(bytes) => Ok(Accepted {
                bytes,
                extension,
                width: header.width,
                height: header.height,
            }),
            // The decoder read the image but the metadata cannot be cut out
            // byte for byte: the pixels, encoded again, carry none.
            None => self.encode_decoded(decoded),
        }
    }

    fn encode_decoded(&self, decoded: Decoded) -> Result<Accepted, MediaError> {
        let pixels = decoded.into_srgb().map_err(MediaError::Undecodable)?;
        self.encode(&pixels, 92)
    }

    /// The checks an upload shares with the build ([`source::decode`]),
    /// after the upload's own byte limit and a type from the bytes.
    fn decode(&self, bytes: &[u8]) -> Result<Decoded, MediaError> {
        if bytes.len() as u64 > self.max_upload {
            return Err(MediaError::TooLarge {
                limit_mib: self.max_upload / (1024 * 1024),
            });
        }
        if source::sniff(bytes).is_none() {
            return Err(unsupported(bytes));
        }
        source::decode(bytes, &self.settings).map_err(MediaError::Undecodable)
    }

    /// Every file under media/ (hidden files left out), by path.
    pub fn list(&self) -> Vec<MediaItem> {
        let owners = self.read_owners().unwrap_or_default();
        let known = std::mem::take(&mut *self.dimensions_cache());
        let mut seen = HashMap::new();
        let mut items: Vec<MediaItem> = walkdir::WalkDir::new(&self.media_dir)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|entry| {
                let rel = entry.path().strip_prefix(&self.media_dir).ok()?;
                let rel = crate::build::load::slash_path(rel);
                let meta = entry.metadata().ok()?;
                let stamp = FileStamp::of(&meta);
                let dimensions = match known.get(&rel) {
                    Some((was, dimensions)) if *was == stamp => *dimensions,
                    _ => image::image_dimensions(entry.path()).ok(),
                };
                seen.insert(rel.clone(), (stamp, dimensions));
                let owner = owners.files.get(&rel);
                Some(MediaItem {
                    url: format!("/media/{}", crate::build::images::encode_url_path(&rel)),
                    bytes: meta.len(),
                    width: dimensions.map(|d| d.0),
                    height: dimensions.map(|d| d.1),
                    uploader: owner.map(|o| o.uploader.clone()),
                    uploaded: owner.map(|o| o.uploaded.clone()),
                    path: rel,
                })
            })
            .collect();
        *self.dimensions_cache() = seen;
        items.sort_by(|a, b| {
            b.uploaded
                .cmp(&a.uploaded)
                .then_with(|| a.path.cmp(&b.path))
        });
        items
    }

    fn dimensions_cache(&self) -> std::sync::MutexGuard<'_, DimensionCache> {
        self.dimensions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks a media path from a request: relative, no `..`, no NUL, an
    /// existing regular file inside media/ (symlinks are not followed).
    pub fn resolve(&self, path: &str) -> Result<String, MediaError> {
        let invalid = || MediaError::InvalidPath(path.escape_default().to_string());
        let trimmed = path.strip_prefix("/media/").unwrap_or(path);
        if trimmed.contains('\0') || trimmed.contains('\\') {
            return Err(invalid());
        }
        let rel = crate::fsx::check_relative(trimmed).map_err(|_| invalid())?;
        if rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        {
            return Err(invalid());
        }
        let full = self.media_dir.join(&rel);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.is_file() && crate::fsx::resolves_inside(&self.media_dir, &full) => {
                Ok(crate::build::load::slash_path(&rel))
            }
            _ => Err(MediaError::NotFound(trimmed.escape_default().to_string())),
        }
    }

    /// Who uploaded `path` (a resolved path).
    pub fn uploader(&self, path: &str) -> Option<String> {
        // Unreadable records: nobody but an admin may delete.
        self.read_owners()
            .ok()?
            .files
            .get(path)
            .map(|o| o.uploader.clone())
    }

    /// Moves a media file to the trash, unless a post or profile uses it.
    pub fn delete(&self, path: &str) -> Result<(), MediaError> {
        let path = self.resolve(path)?;
        let users = self.used_by(&path);
        if !users.is_empty() {
            return Err(MediaError::InUse { path, users });
        }
        let _guard = self.guard();
        let source = self.media_dir.join(&path);
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let target = self.trash.join(format!("{stamp}")).join(&path);
        let io_err = |source| MediaError::Io {
            path: PathBuf::from("media").join(&path),
            source,
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io_err)?;
        }
        std::fs::rename(&source, &target).map_err(io_err)?;
        let mut owners = self.read_owners()?;
        if owners.files.remove(&path).is_some() {
            self.write_owners(&owners)?;
        }
        Ok(())
    }

    /// Content files that mention `path` (covers, avatars, Markdown images).
    fn used_by(&self, path: &str) -> Vec<String> {
        walkdir::WalkDir::new(&self.content_dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"))
            .filter(|e| {
                std::fs::read_to_string(e.path()).is_ok_and(|text| {
                    text.contains(path)
                        || text.contains(&crate::build::images::encode_url_path(path))
                })
            })
            .filter_map(|e| {
                let rel = e.path().strip_prefix(self.content_dir.parent()?).ok()?;
                Some(crate::build::load::slash_path(rel))
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

fn truncate(text: &str, max: usize) -> String {
    let mut text: String = text.chars().take(max).collect();
    while text.ends_with('-') {
        text.pop();
    }
    text
}

/// Why `bytes`, which are none of the accepted types, are refused, in
/// words that say what the file seems to be.
fn unsupported(bytes: &[u8]) -> MediaError {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    let what = if head.contains("<svg") {
        "an SVG image; SVG can carry scripts, so it is refused: export it as PNG"
    } else if head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.starts_with('<')
    {
        "an HTML or XML document, not an image"
    } else if bytes.is_empty() {
        "an empty file"
    } else {
        "not a JPEG, PNG, GIF or WebP image"
    };
    MediaError::Unsupported(format!(
        "only JPEG, PNG, GIF and WebP images can be uploaded; this file is {what}"
    ))
}

/// JPEG without metadata: APP1 (EXIF, XMP), APP3 to APP13 and APP15
/// (IPTC, maker notes, secondary images), comments, and anything after the
/// end-of-image marker. JFIF (APP0), the colour profile (APP2), Adobe's
/// colour transform (APP14), the tables and the scans stay byte for byte;
/// every scan is walked, so segments between progressive scans are cleaned
/// too. `None` when the structure is damaged.
fn strip_jpeg(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(bytes.get(..2)?);
    let mut i = 2;
    loop {
        if *bytes.get(i)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(i + 1)?;
        match marker {
            0xFF => {
                i += 1;
                continue;
            }
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Some(out);
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&bytes[i..i + 2]);
                i += 2;
                continue;
            }
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]));
        let end = i + 2 + len;
        if len < 2 || end > bytes.len() {
            return None;
        }
        let metadata = matches!(marker, 0xE1 | 0xE3..=0xED | 0xEF | 0xFE);
        if !metadata {
            out.extend_from_slice(&bytes[i..end]);
        }
        i = end;
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker that is neither a
            // stuffed zero nor a restart marker.
            let start = i;
            loop {
                let at = i + bytes.get(i..)?.iter().position(|&b| b == 0xFF)?;
                let next = *bytes.get(at + 1)?;
                if next == 0x00 || (0xD0..=0xD7).contains(&next) {
                    i = at + 2;
                } else {
                    i = at;
                    break;
                }
            }
            out.extend_from_slice(&bytes[start..i]);
        }
    }
}

/// GIF without comments and application extensions other than the
/// animation loop count, and nothing after the trailer. `None` when the
/// structure is damaged.
fn strip_gif(bytes: &[u8]) -> Option<Vec<u8>> {
    fn skip_sub_blocks(bytes: &[u8], mut j: usize) -> Option<usize> {
        loop {
            let n = usize::from(*bytes.get(j)?);
            j += 1;
            if n == 0 {
                return Some(j);
            }
            j += n;
        }
    }
    let table = |flags: u8| {
        if flags & 0x80 != 0 {
            3 * (1usize << ((flags & 7) + 1))
        } else {
            0
        }
    };
    let mut i = 13 + table(*bytes.get(10)?);
    let mut out = bytes.get(..i)?.to_vec();
    loop {
        match *bytes.get(i)? {
            0x3B => {
                out.push(0x3B);
                return Some(out);
            }
            0x21 => {
                let label = *bytes.get(i + 1)?;
                let keep = match label {
                    0xFE => false,
                    0xFF => matches!(
                        bytes.get(i + 3..i + 14),
                        Some(b"NETSCAPE2.0" | b"ANIMEXTS1.0")
                    ),
                    _ => true,
                };
                let end = skip_sub_blocks(bytes, i + 2)?;
                if keep {
                    out.extend_from_slice(bytes.get(i..end)?);
                }
                i = end;
            }
            0x2C => {
                let flags = *bytes.get(i + 9)?;
                let data = i + 10 + table(flags) + 1;
                let end = skip_sub_blocks(bytes, data)?;
                out.extend_from_slice(bytes.get(i..end)?);
                i = end;
            }
            _ => return None,
        }
    }
}

/// PNG without eXIf and text chunks.
fn strip_png(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = bytes[..8].to_vec();
    let mut i = 8;
    while i + 12 <= bytes.len() {
        let len = usize::try_from(u32::from_be_bytes(bytes[i..i + 4].try_into().ok()?)).ok()?;
        let end = i.checked_add(12)?.checked_add(len)?;
        if end > bytes.len() {
            return None;
        }
        let kind = &bytes[i + 4..i + 8];
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME") {
            out.extend_from_slice(&bytes[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            return Some(out);
        }
    }
    None
}

/// WebP without EXIF and XMP chunks (and their VP8X flags).
fn strip_webp(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = bytes[..12].to_vec();
    let mut i = 12;
    while i + 8 <= bytes.len() {
        let len = usize::try_from(u32::from_le_bytes(bytes[i + 4..i + 8].try_into().ok()?)).ok()?;
        let end = (i + 8).checked_add(len + (len & 1))?.min(bytes.len());
        let kind = &bytes[i..i + 4];
        if kind == b"VP8X" && end - i >= 9 {
            let mut chunk = bytes[i..end].to_vec();
            chunk[8] &= !(0x08 | 0x04);
            out.extend_from_slice(&chunk);
        } else if !matches!(kind, b"EXIF" | b"XMP ") {
            out.extend_from_slice(&bytes[i..end]);
        }
        i = end;
    }
    let riff_len = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&riff_len.to_le_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_refuses_svg_and_html() {
        let svg = unsupported(b"<?xml version=\"1.0\"?><svg onload=\"alert(1)\"/>");
        assert!(svg.to_string().contains("SVG"), "{svg}");
        let html = unsupported(b"<!DOCTYPE html><p>hi");
        assert!(html.to_string().contains("HTML"), "{html}");
    }

    #[test]
    fn jpeg_strip_drops_metadata_in_every_scan_and_after_the_end() {
        // SOI, APP1 "Exif", COM, DQT, SOS + data (with a stuffed FF00 and a
        // restart marker), COM between scans, a second SOS, EOI, trailing junk.
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend([0xFF, 0xE1, 0x00, 0x08]);
        jpeg.extend(b"Exif\0\0");
        jpeg.extend([0xFF, 0xFE, 0x00, 0x05, b'g', b'p', b's']);
        jpeg.extend([0xFF, 0xDB, 0x00, 0x03, 0x01]);
        jpeg.extend([
            0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56,
        ]);
        jpeg.extend([0xFF, 0xFE, 0x00, 0x04, b'h', b'i']);
        jpeg.extend([0xFF, 0xDA, 0x00, 0x02, 0x78, 0xFF, 0xD9]);
        jpeg.extend(b"GPS appended after the end");
        let stripped = strip_jpeg(&jpeg).unwrap();
        let mut expected = vec![0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x03, 0x01];
        expected.extend([
            0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56,
        ]);
        expected.extend([0xFF, 0xDA, 0x00, 0x02, 0x78, 0xFF, 0xD9]);
        assert_eq!(stripped, expected);
        assert!(strip_jpeg(&jpeg[..20]).is_none(), "truncated");
    }

    #[test]
    fn gif_strip_keeps_the_loop_count_and_drops_comments() {
        let mut gif = b"GIF89a".to_vec();
        gif.extend([1, 0, 1, 0, 0x80, 0, 0]); // 1×1, global table of 2 colours
        gif.extend([0, 0, 0, 255, 255, 255]);
        let mut netscape = vec![0x21, 0xFF, 11];
        netscape.extend(b"NETSCAPE2.0");
        netscape.extend([3, 1, 0, 0, 0]);
        gif.extend(&netscape);
        gif.extend([0x21, 0xFE, 3, b'g', b'p', b's', 0]); // comment
        let mut xmp = vec![0x21, 0xFF, 11];
        xmp.extend(b"XMP DataXMP");
        xmp.extend([2, b'<', b'x', 0]);
        gif.extend(&xmp);
        let image = [0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4C, 0x01, 0];
        gif.extend(image);
        gif.push(0x3B);
        gif.extend(b"junk");
        let stripped = strip_gif(&gif).unwrap();
        let mut expected = gif[..19].to_vec();
        expected.extend(&netscape);
        expected.extend(image);
        expected.push(0x3B);
        assert_eq!(stripped, expected);
        assert!(strip_gif(&gif[..25]).is_none(), "truncated");
    }

    fn chunk_png(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0, 0, 0, 0]);
        out
    }

    #[test]
    fn png_strip_drops_text_and_exif_chunks() {
        let mut png = Vec::new();
        image::RgbImage::from_pixel(4, 3, image::Rgb([1, 2, 3]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        // Insert metadata after IHDR (8 + 25 bytes).
        let mut with_meta = png[..33].to_vec();
        with_meta.extend(chunk_png(b"tEXt", b"GPS\0somewhere"));
        with_meta.extend(chunk_png(b"eXIf", b"MM\0*"));
        with_meta.extend_from_slice(&png[33..]);
        let stripped = strip_png(&with_meta).unwrap();
        assert_eq!(stripped, png);
        assert!(
            strip_png(&with_meta[..with_meta.len() - 5]).is_none(),
            "truncated"
        );
    }

    #[test]
    fn webp_strip_drops_exif_and_fixes_sizes() {
        let pixels = vec![90u8; 8 * 8 * 3];
        let encoded = webp::Encoder::from_rgb(&pixels, 8, 8).encode(80.0).to_vec();
        let vp8 = &encoded[12..];
        let mut body = b"WEBP".to_vec();
        body.extend_from_slice(b"VP8X");
        body.extend_from_slice(&10u32.to_le_bytes());
        body.extend_from_slice(&[0x08, 0, 0, 0, 7, 0, 0, 7, 0, 0]);
        body.extend_from_slice(vp8);
        body.extend_from_slice(b"EXIF");
        body.extend_from_slice(&5u32.to_le_bytes());
        body.extend_from_slice(b"GPS!!\0");
        let mut file = b"RIFF".to_vec();
        file.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
        file.extend_from_slice(&body);
        let stripped = strip_webp(&file).unwrap();
        assert!(!stripped.windows(4).any(|w| w == b"EXIF"));
        assert_eq!(stripped[20], 0, "the EXIF flag is cleared");
        let riff = u32::from_le_bytes(stripped[4..8].try_into().unwrap()) as usize;
        assert_eq!(riff, stripped.len() - 8);
        assert_eq!(image::load_from_memory(&stripped).unwrap().width(), 8);
    }

    #[test]
    fn media_lists_filter_sort_and_page() {
        let item =
            |path: &str, bytes: u64, uploader: Option<&str>, uploaded: Option<&str>| MediaItem {
                path: path.into(),
                url: format!("/media/{path}"),
                bytes,
                width: Some(10),
                height: Some(10),
                uploader: uploader.map(String::from),
                uploaded: uploaded.map(String::from),
            };
        let items = vec![
            item(
                "2024/cat.jpg",
                300,
                Some("ann"),
                Some("2024-01-02T00:00:00Z"),
            ),
            item("dog.png", 100, Some("bob"), Some("2024-03-01T00:00:00Z")),
            item("Cat-2.webp", 200, None, None),
        ];
        let paths = |q: MediaQuery| -> Vec<String> {
            query_media(items.clone(), &q)
                .items
                .into_iter()
                .map(|i| i.path)
                .collect()
        };
        assert_eq!(
            paths(MediaQuery::default()),
            ["dog.png", "2024/cat.jpg", "Cat-2.webp"]
        );
        let cats = MediaQuery {
            text: Some("CAT".into()),
            ..MediaQuery::default()
        };
        assert_eq!(paths(cats), ["2024/cat.jpg", "Cat-2.webp"]);
        let by_size = MediaQuery {
            sort: MediaSort::Size,
            order: Order::Asc,
            ..MediaQuery::default()
        };
        assert_eq!(paths(by_size), ["dog.png", "Cat-2.webp", "2024/cat.jpg"]);
        let bobs = MediaQuery {
            uploader: Some("bob".into()),
            ..MediaQuery::default()
        };
        assert_eq!(paths(bobs), ["dog.png"]);
        let second = MediaQuery {
            paging: Paging { page: 2, limit: 2 },
            ..MediaQuery::default()
        };
        let page = query_media(items.clone(), &second);
        assert_eq!((page.items.len(), page.total, page.pages), (1, 3, 2));
    }
}

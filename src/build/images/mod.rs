//! Responsive images: what is in media/, which variants each use needs, and
//! the `<picture>` markup that references them.
//!
//! [`probe`] reads every file under media/ once per build: its content hash
//! (which names the variants, so a changed image gets new URLs and a CDN
//! never serves a stale one) and, for images, the header only — format,
//! size after EXIF orientation — under the configured limits, so a
//! decompression bomb is refused before a pixel is decoded. Pixels are only
//! decoded in [`process`], and only for variants missing from the cache.
//! Both read images through [`source`], as the server's uploads do.

pub mod process;
pub mod source;
pub mod svg;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Mutex;

use image::ImageReader;
use rayon::prelude::*;

use crate::build::load::AssetFile;
use crate::build::parse::markdown::escape_attr;
use crate::config::ImageSettings;

/// Raster formats quire resizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceFormat {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// GIF: published as it is (animation would be lost by resizing).
    Gif,
}

/// Formats variants are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutFormat {
    /// Baseline-compatible JPEG.
    Jpeg,
    /// PNG (for PNG sources, which may have transparency or sharp edges).
    Png,
    /// Lossy WebP.
    Webp,
    /// AVIF, when enabled.
    Avif,
}

impl OutFormat {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Avif => "avif",
        }
    }

    /// MIME type for `<source type>`.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Avif => "image/avif",
        }
    }
}

/// A raster image found in media/.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageInfo {
    /// Detected format (from the bytes, not the name).
    pub format: SourceFormat,
    /// Width after EXIF orientation.
    pub width: u32,
    /// Height after EXIF orientation.
    pub height: u32,
    /// Has an alpha channel.
    pub alpha: bool,
    /// BLAKE3 of the file's bytes.
    pub hash: [u8; 32],
    /// Absolute path.
    pub source: PathBuf,
}

/// What a file under media/ is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaEntry {
    /// A raster image quire can resize.
    Image(ImageInfo),
    /// Looks like an image (by name or magic bytes) but cannot be used: why.
    Broken(String),
    /// An SVG drawing: published sanitised (see [`svg`]), shown at its size.
    Vector(VectorInfo),
    /// Anything else (PDF, video…): published as it is.
    Other(PathBuf),
}

/// A sanitised SVG under media/.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VectorInfo {
    /// Width in CSS pixels.
    pub width: u32,
    /// Height in CSS pixels.
    pub height: u32,
    /// The sanitised file, as published.
    pub bytes: std::sync::Arc<[u8]>,
    /// Parts the sanitiser removed (scripts, handlers, external references).
    pub removed: usize,
}

/// Every file under media/, keyed by its path relative to media/.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaIndex {
    entries: BTreeMap<String, MediaEntry>,
}

/// How an image is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Crop {
    /// Whole image, scaled to each configured width.
    Fit,
    /// Centre square, for avatars.
    Square,
}

/// One output file of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Output path, e.g. `media/photo-960w-1a2b3c4d.webp`.
    pub out_path: String,
    /// Cache key (hex), naming the cached file.
    pub key: String,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// Encoding.
    pub format: OutFormat,
    /// Cut.
    pub crop: Crop,
}

/// Bumped whenever encoding changes in a way that changes output bytes, so
/// cached variants from older quire versions are not reused.
const PIPELINE_VERSION: &str = "quire-images-2";

impl MediaIndex {
    /// An index of the given entries (keys relative to media/).
    pub fn new(entries: BTreeMap<String, MediaEntry>) -> Self {
        Self { entries }
    }

    /// The entry for `rel` (relative to media/). The lookup is part of
    /// what the running [`record`] reports, found or not.
    pub fn get(&self, rel: &str) -> Option<&MediaEntry> {
        RECORDING.with_borrow_mut(|recording| {
            if let Some(used) = recording {
                used.consulted.push(rel.to_string());
            }
        });
        self.entries.get(rel)
    }

    /// The image at `rel`, if it is a usable raster image (a lookup like
    /// [`MediaIndex::get`]).
    pub fn image(&self, rel: &str) -> Option<&ImageInfo> {
        match self.get(rel) {
            Some(MediaEntry::Image(info)) => Some(info),
            _ => None,
        }
    }

    /// A hash of the entries at `rels`, absent ones included: equal keys
    /// under two indexes mean whatever looked them up would see the same.
    fn entries_key(&self, rels: &[String]) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        for rel in rels {
            (rel, self.entries.get(rel)).hash(&mut hasher);
        }
        hasher.finish()
    }

    /// Every entry.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &MediaEntry)> {
        self.entries.iter()
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when media/ is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Reads the media files' hashes and image headers, in parallel.
pub fn probe(media: &[AssetFile], settings: &ImageSettings) -> MediaIndex {
    probe_again(media, settings, &MediaIndex::default(), |_| true)
}

/// Like [`probe`], but takes the entry of each file `changed` does not name
/// from `previous`: a change to one file under media/ does not read every
/// other image again.
pub fn probe_again(
    media: &[AssetFile],
    settings: &ImageSettings,
    previous: &MediaIndex,
    changed: impl Fn(&str) -> bool + Sync,
) -> MediaIndex {
    let entries = media
        .par_iter()
        .map(|asset| {
            let rel = asset
                .out_path
                .strip_prefix("media/")
                .unwrap_or(&asset.out_path)
                .to_string();
            let entry = match previous.entries.get(&rel) {
                Some(entry) if !changed(&rel) => entry.clone(),
                _ => probe_file(asset, settings),
            };
            (rel, entry)
        })
        .collect();
    MediaIndex { entries }
}

fn probe_file(asset: &AssetFile, settings: &ImageSettings) -> MediaEntry {
    let is_svg = asset
        .source
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if is_svg {
        return probe_svg(asset, settings);
    }
    // Sniff the start first: other media (videos, PDFs) may be large and
    // are never read whole here.
    let mut head = Vec::with_capacity(64);
    let read_head = std::fs::File::open(&asset.source)
        .and_then(|file| std::io::Read::read_to_end(&mut std::io::Read::take(file, 64), &mut head));
    if let Err(err) = read_head {
        return MediaEntry::Broken(format!("cannot read the file: {err}"));
    }
    if source::sniff(&head).is_none() {
        let looks_like_image = matches!(
            asset
                .source
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("jpg" | "jpeg" | "png" | "gif" | "webp" | "avif" | "bmp" | "tif" | "tiff")
        );
        if !looks_like_image {
            return MediaEntry::Other(asset.source.clone());
        }
        let guessed = ImageReader::new(Cursor::new(&head))
            .with_guessed_format()
            .ok()
            .and_then(|r| r.format());
        return MediaEntry::Broken(match guessed {
            Some(other) => {
                format!("{other:?} images are not supported; use JPEG, PNG, WebP or GIF")
            }
            None => "not an image: the content is not JPEG, PNG, WebP or GIF".into(),
        });
    }
    let size = std::fs::metadata(&asset.source).map_or(0, |m| m.len());
    if let Err(reason) = source::check_size(size, settings) {
        return MediaEntry::Broken(reason);
    }
    let bytes = match std::fs::read(&asset.source) {
        Ok(bytes) => bytes,
        Err(err) => return MediaEntry::Broken(format!("cannot read the file: {err}")),
    };
    match source::header(&bytes, settings) {
        Ok(header) => {
            let (width, height) = header.oriented();
            MediaEntry::Image(ImageInfo {
                format: header.format,
                width,
                height,
                alpha: header.alpha,
                hash: *blake3::hash(&bytes).as_bytes(),
                source: asset.source.clone(),
            })
        }
        Err(reason) => MediaEntry::Broken(reason),
    }
}

fn probe_svg(asset: &AssetFile, settings: &ImageSettings) -> MediaEntry {
    let size = std::fs::metadata(&asset.source).map_or(0, |m| m.len());
    if let Err(reason) = source::check_size(size, settings) {
        return MediaEntry::Broken(reason);
    }
    let text = match std::fs::read(&asset.source).map(String::from_utf8) {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => return MediaEntry::Broken("not an SVG image: it is not UTF-8 text".into()),
        Err(err) => return MediaEntry::Broken(format!("cannot read the file: {err}")),
    };
    match svg::sanitise(text.strip_prefix('\u{feff}').unwrap_or(&text)) {
        Ok(clean) => MediaEntry::Vector(VectorInfo {
            width: clean.width,
            height: clean.height,
            bytes: clean.bytes.into(),
            removed: clean.removed,
        }),
        Err(reason) => MediaEntry::Broken(reason),
    }
}

/// The output formats of an image: its own (WebP stays WebP) plus WebP and,
/// when enabled, AVIF; the fallback `<img>` format comes first.
fn formats(info: &ImageInfo, settings: &ImageSettings) -> Vec<OutFormat> {
    // PNG keeps sharp edges and transparency; anything with alpha needs it too.
    let fallback = if info.format == SourceFormat::Png || info.alpha {
        OutFormat::Png
    } else {
        OutFormat::Jpeg
    };
    let mut formats = vec![fallback, OutFormat::Webp];
    if settings.avif {
        formats.push(OutFormat::Avif);
    }
    formats
}

/// Widths for `crop`, never upscaled: the configured widths below the
/// source's, plus the source's own when it is smaller than the largest.
fn widths(info: &ImageInfo, crop: Crop, settings: &ImageSettings) -> Vec<(u32, u32)> {
    let (limit, configured) = match crop {
        Crop::Fit => (info.width, &settings.widths),
        Crop::Square => (info.width.min(info.height), &settings.avatar_widths),
    };
    let mut chosen: Vec<u32> = configured.iter().copied().filter(|w| *w < limit).collect();
    let largest = configured.last().copied().unwrap_or(limit);
    if limit <= largest || chosen.is_empty() {
        chosen.push(limit.min(largest));
    }
    chosen.sort_unstable();
    chosen.dedup();
    chosen
        .into_iter()
        .map(|w| match crop {
            Crop::Fit => {
                let h = (u64::from(info.height) * u64::from(w) + u64::from(info.width) / 2)
                    / u64::from(info.width);
                (w, (h as u32).max(1))
            }
            Crop::Square => (w, w),
        })
        .collect()
}

/// Every variant of image `rel` for `crop`, fallback format first, each
/// format's widths ascending.
pub fn variants(rel: &str, info: &ImageInfo, crop: Crop, settings: &ImageSettings) -> Vec<Variant> {
    if info.format == SourceFormat::Gif {
        return Vec::new();
    }
    let stem = match rel.rfind('.') {
        Some(dot) if dot > rel.rfind('/').map_or(0, |s| s + 1) => &rel[..dot],
        _ => rel,
    };
    let mut out = Vec::new();
    for format in formats(info, settings) {
        // Every setting that changes the bytes is part of the key.
        let quality = match format {
            OutFormat::Jpeg => format!("q{}", settings.jpeg_quality),
            OutFormat::Webp => format!("q{}e{}", settings.webp_quality, settings.webp_effort),
            OutFormat::Avif => format!("q{}", settings.avif_quality),
            OutFormat::Png => String::new(),
        };
        for (width, height) in widths(info, crop, settings) {
            let mut hasher = blake3::Hasher::new();
            hasher.update(PIPELINE_VERSION.as_bytes());
            hasher.update(&info.hash);
            hasher.update(format!("{format:?}/{quality}/{width}x{height}/{crop:?}").as_bytes());
            let key = hasher.finalize().to_hex().to_string();
            let tag = if crop == Crop::Square { "sq" } else { "w" };
            out.push(Variant {
                out_path: format!(
                    "media/{stem}-{width}{tag}-{}.{}",
                    &key[..10],
                    format.extension()
                ),
                key,
                width,
                height,
                format,
                crop,
            });
        }
    }
    out
}

/// Images that pages and templates asked for during a build.
#[derive(Debug, Default)]
pub struct ImageRequests(Mutex<BTreeSet<(String, Crop)>>);

/// What one piece of work (a file's parse, an output's rendering) took from
/// media/: a later build may reuse its result while the entries it looked
/// up are the same, and must still ask for the images it used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaUse {
    /// Images asked for, sorted, without repeats.
    pub images: Vec<(String, Crop)>,
    /// Every media/ path looked up (present or not), sorted, without repeats.
    pub consulted: Vec<String>,
}

/// The media/ paths some work looked up (present or not) and a key of the
/// entries it saw there: the work's result holds while the index still
/// gives the same key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Lookups {
    paths: Vec<String>,
    key: u64,
}

impl Lookups {
    /// The lookups of `paths` (from [`MediaUse::consulted`]) in `index`.
    pub fn new(paths: Vec<String>, index: &MediaIndex) -> Self {
        let key = index.entries_key(&paths);
        Self { paths, key }
    }

    /// True when `index` holds the same entries at these paths.
    pub fn hold(&self, index: &MediaIndex) -> bool {
        self.paths.is_empty() || index.entries_key(&self.paths) == self.key
    }
}

thread_local! {
    /// What the work running on this thread used (see [`record`]).
    static RECORDING: std::cell::RefCell<Option<MediaUse>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `work` and returns, besides its result, what it used from media/.
/// The work must stay on this thread (no nested rayon calls).
pub fn record<T>(work: impl FnOnce() -> T) -> (T, MediaUse) {
    /// Puts the outer recording back, even when `work` panics.
    struct Restore(Option<Option<MediaUse>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(outer) = self.0.take() {
                RECORDING.set(outer);
            }
        }
    }
    let mut restore = Restore(Some(RECORDING.replace(Some(MediaUse::default()))));
    let result = work();
    let outer = restore.0.take().unwrap_or_default();
    let mut used = RECORDING.replace(outer).unwrap_or_default();
    used.images.sort();
    used.images.dedup();
    used.consulted.sort();
    used.consulted.dedup();
    (result, used)
}

impl ImageRequests {
    /// Records that `rel` is used with `crop`.
    pub fn add(&self, rel: &str, crop: Crop) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((rel.to_string(), crop));
        RECORDING.with_borrow_mut(|recording| {
            if let Some(used) = recording {
                used.images.push((rel.to_string(), crop));
            }
        });
    }

    /// Everything requested, sorted.
    pub fn take(&self) -> BTreeSet<(String, Crop)> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// Attributes of a rendered `<picture>`.
#[derive(Debug, Clone, Copy)]
pub struct PictureOptions<'a> {
    /// Alt text (plain text; escaped here).
    pub alt: &'a str,
    /// `sizes` attribute.
    pub sizes: &'a str,
    /// Optional class on the `<img>`.
    pub class: Option<&'a str>,
    /// `loading="lazy"` (false for images at the top of the page).
    pub lazy: bool,
    /// Optional `title`.
    pub title: Option<&'a str>,
}

/// Markup for image `rel`: a `<picture>` of its variants, or for a GIF
/// (published as it is, to keep animation) a plain `<img>`.
pub fn image_html(
    rel: &str,
    info: &ImageInfo,
    crop: Crop,
    settings: &ImageSettings,
    base_path: &str,
    options: &PictureOptions<'_>,
) -> String {
    let variants = variants(rel, info, crop, settings);
    if variants.is_empty() {
        let mut html = format!(
            "<img src=\"{base_path}media/{}\" width=\"{}\" height=\"{}\"",
            encode_url_path(rel),
            info.width,
            info.height,
        );
        push_img_options(&mut html, options);
        html.push('>');
        return html;
    }
    picture_html(&variants, base_path, options)
}

/// The site path (no base path, no leading `/`) of the full-size copy of
/// image `rel`: what a plain link to the image ("click for the original")
/// points to, since images are published only as variants.
pub fn full_size_path(rel: &str, info: &ImageInfo, settings: &ImageSettings) -> String {
    let variants = variants(rel, info, Crop::Fit, settings);
    let Some(fallback) = variants.first().map(|v| v.format) else {
        return format!("media/{}", encode_url_path(rel));
    };
    let largest = variants
        .iter()
        .filter(|v| v.format == fallback)
        .max_by_key(|v| v.width)
        .unwrap_or(&variants[0]);
    encode_url_path(&largest.out_path)
}

/// `<picture>` markup for `variants` (from [`variants`]), with the site's base path.
pub fn picture_html(variants: &[Variant], base_path: &str, options: &PictureOptions<'_>) -> String {
    let Some(first) = variants.first() else {
        return String::new();
    };
    let fallback_format = first.format;
    let mut by_format: Vec<(OutFormat, Vec<&Variant>)> = Vec::new();
    for variant in variants {
        match by_format.iter_mut().find(|(f, _)| *f == variant.format) {
            Some((_, list)) => list.push(variant),
            None => by_format.push((variant.format, vec![variant])),
        }
    }
    let srcset = |list: &[&Variant]| {
        list.iter()
            .map(|v| format!("{base_path}{} {}w", encode_url_path(&v.out_path), v.width))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sizes = escape_attr(options.sizes);
    let mut html = String::from("<picture>");
    // Modern formats first: the browser takes the first source it supports.
    for (format, list) in by_format
        .iter()
        .rev()
        .filter(|(f, _)| *f != fallback_format)
    {
        let _ = write!(
            html,
            "<source type=\"{}\" srcset=\"{}\" sizes=\"{sizes}\">",
            format.mime(),
            srcset(list)
        );
    }
    let fallback = &by_format[0].1;
    let largest = fallback.last().copied().unwrap_or(first);
    let default = fallback
        .iter()
        .rev()
        .find(|v| v.width <= 960)
        .copied()
        .unwrap_or(largest);
    let _ = write!(
        html,
        "<img src=\"{base_path}{}\" srcset=\"{}\" sizes=\"{sizes}\" width=\"{}\" height=\"{}\"",
        encode_url_path(&default.out_path),
        srcset(fallback),
        largest.width,
        largest.height,
    );
    push_img_options(&mut html, options);
    html.push_str("></picture>");
    html
}

/// Percent-encodes a relative path for use in a URL (and so in `srcset`,
/// where spaces and commas are separators); `/` is kept. The result needs
/// no further HTML escaping.
pub fn encode_url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `<img>` attributes that come from the caller: alt, class, title,
/// lazy loading, async decoding.
fn push_img_options(html: &mut String, options: &PictureOptions<'_>) {
    let _ = write!(html, " alt=\"{}\"", escape_attr(options.alt));
    if let Some(class) = options.class {
        let _ = write!(html, " class=\"{}\"", escape_attr(class));
    }
    if let Some(title) = options.title {
        let _ = write!(html, " title=\"{}\"", escape_attr(title));
    }
    if options.lazy {
        html.push_str(" loading=\"lazy\"");
    }
    html.push_str(" decoding=\"async\"");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn info(width: u32, height: u32) -> ImageInfo {
        ImageInfo {
            format: SourceFormat::Jpeg,
            width,
            height,
            alpha: false,
            hash: [7; 32],
            source: PathBuf::from("/m/a.jpg"),
        }
    }

    fn settings() -> ImageSettings {
        Config::for_test(std::path::Path::new("/site")).images
    }

    #[test]
    fn widths_never_upscale() {
        let s = settings();
        let w = |i: &ImageInfo, crop| {
            widths(i, crop, &s)
                .into_iter()
                .map(|(w, _)| w)
                .collect::<Vec<_>>()
        };
        assert_eq!(w(&info(3000, 2000), Crop::Fit), [480, 960, 1600]);
        assert_eq!(w(&info(1200, 800), Crop::Fit), [480, 960, 1200]);
        assert_eq!(w(&info(300, 200), Crop::Fit), [300]);
        assert_eq!(w(&info(1600, 1000), Crop::Fit), [480, 960, 1600]);
        assert_eq!(w(&info(800, 600), Crop::Square), [96, 240, 480]);
        assert_eq!(w(&info(200, 300), Crop::Square), [96, 200]);
        assert_eq!(widths(&info(3000, 2000), Crop::Fit, &s)[0], (480, 320));
    }

    #[test]
    fn variant_names_come_from_content_and_parameters() {
        let s = settings();
        let a = variants("photos/a.jpg", &info(1000, 500), Crop::Fit, &s);
        assert_eq!(a.len(), 6);
        assert!(
            a[0].out_path.starts_with("media/photos/a-480w-"),
            "{}",
            a[0].out_path
        );
        assert!(a[0].out_path.ends_with(".jpg"));
        assert!(a[5].out_path.ends_with(".webp"));
        let mut other = info(1000, 500);
        other.hash = [8; 32];
        let b = variants("photos/a.jpg", &other, Crop::Fit, &s);
        assert_ne!(a[0].out_path, b[0].out_path, "new content, new URL");
        assert_eq!(
            a,
            variants("photos/a.jpg", &info(1000, 500), Crop::Fit, &s),
            "deterministic"
        );
    }

    #[test]
    fn probing_again_reads_only_the_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let asset = |name: &str, bytes: &[u8]| {
            let source = dir.path().join(name);
            std::fs::write(&source, bytes).unwrap();
            AssetFile {
                out_path: format!("media/{name}"),
                source,
            }
        };
        let files = [asset("a.txt", b"a"), asset("b.txt", b"b")];
        let mut previous = BTreeMap::new();
        for name in ["a.txt", "b.txt"] {
            previous.insert(name.to_string(), MediaEntry::Broken("as before".into()));
        }
        let previous = MediaIndex::new(previous);
        let again = probe_again(&files, &settings(), &previous, |rel| rel == "b.txt");
        assert_eq!(again.get("a.txt"), previous.get("a.txt"), "kept");
        assert_eq!(
            again.get("b.txt"),
            Some(&MediaEntry::Other(dir.path().join("b.txt"))),
            "read again"
        );
        // A file the previous index lacks is read whatever the change says.
        let fresh = probe_again(&files, &settings(), &MediaIndex::default(), |_| false);
        assert_eq!(fresh, probe(&files, &settings()));
        assert_eq!(fresh.len(), 2);
    }

    #[test]
    fn media_paths_are_encoded_in_urls() {
        assert_eq!(
            encode_url_path("media/Screen Shot, 2\"x\".png"),
            "media/Screen%20Shot%2C%202%22x%22.png"
        );
        assert_eq!(encode_url_path("media/été.jpg"), "media/%C3%A9t%C3%A9.jpg");
    }

    #[test]
    fn a_plain_link_to_an_image_gets_its_largest_fallback_variant() {
        let path = full_size_path("my pics/a.jpg", &info(1000, 500), &settings());
        assert!(path.starts_with("media/my%20pics/a-1000w-"), "{path}");
        assert!(path.ends_with(".jpg"), "{path}");
    }

    #[test]
    fn picture_markup_lists_sources_and_dimensions() {
        let s = settings();
        let v = variants("a.jpg", &info(1000, 500), Crop::Fit, &s);
        let html = picture_html(
            &v,
            "/",
            &PictureOptions {
                alt: "A \"b\"",
                sizes: "100vw",
                class: None,
                lazy: true,
                title: None,
            },
        );
        assert!(
            html.starts_with("<picture><source type=\"image/webp\" srcset=\"/media/a-480w-"),
            "{html}"
        );
        assert!(html.contains(" 960w, /media/a-1000w-"), "{html}");
        assert!(html.contains("width=\"1000\" height=\"500\" alt=\"A &quot;b&quot;\" loading=\"lazy\" decoding=\"async\"></picture>"), "{html}");
        assert!(html.contains("<img src=\"/media/a-960w-"), "{html}");
    }
}

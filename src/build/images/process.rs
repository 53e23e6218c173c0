//! Producing image variants: decode once, orient, convert to sRGB, resize,
//! encode, cache.
//!
//! Variants are cached under `images.cache_dir` by a key made of the
//! source's content hash and every encoding parameter, so a build with
//! nothing changed decodes nothing, and a changed image redoes only its own
//! variants. Sources are processed in parallel (rayon); each worker holds at
//! most one decoded image, whose size the decoding limits bound.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use fast_image_resize as fir;
use rayon::prelude::*;
use serde::Serialize;

use super::source::{self, Pixels};
use super::{Crop, ImageInfo, MediaEntry, MediaIndex, OutFormat, SourceFormat, Variant, variants};
use crate::build::write::Stager;
use crate::config::ImageSettings;
use crate::diagnostic::Diagnostic;

/// What the image stage did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ImageReport {
    /// Source images used by the site.
    pub images: usize,
    /// Variants published.
    pub variants: usize,
    /// Sources decoded (zero when everything came from the cache).
    pub decoded: usize,
    /// Variants encoded in this build.
    pub encoded: usize,
}

/// The output files of every used image, for the stale-file check.
#[derive(Debug, Clone, Default)]
pub struct ImagePlan {
    /// Per source (relative to media/): the info and the variants.
    pub sources: Vec<(String, ImageInfo, Vec<Variant>)>,
}

impl ImagePlan {
    /// Plans the variants of every requested image that is usable.
    pub fn new(
        requests: &BTreeSet<(String, Crop)>,
        media: &MediaIndex,
        settings: &ImageSettings,
    ) -> Self {
        let mut by_source: BTreeMap<&str, Vec<Crop>> = BTreeMap::new();
        for (rel, crop) in requests {
            by_source.entry(rel).or_default().push(*crop);
        }
        let sources = by_source
            .into_iter()
            .filter_map(|(rel, crops)| {
                let info = media.image(rel)?;
                let all = crops
                    .iter()
                    .flat_map(|crop| variants(rel, info, *crop, settings))
                    .collect();
                Some((rel.to_string(), info.clone(), all))
            })
            .collect();
        Self { sources }
    }

    /// The part of the plan whose outputs are not all `present` already,
    /// or that publishes a GIF as it is whose entry differs in `before`
    /// (the index the present outputs were made from).
    pub fn missing(&self, present: impl Fn(&str) -> bool, before: &MediaIndex) -> Self {
        let mut left = Self {
            sources: self.sources.clone(),
        };
        left.sources.retain(|(rel, info, variants)| {
            if info.format == SourceFormat::Gif {
                let same =
                    matches!(before.entries.get(rel), Some(MediaEntry::Image(old)) if old == info);
                return !same || !present(&format!("media/{rel}"));
            }
            !variants.iter().all(|v| present(&v.out_path))
        });
        left
    }

    /// Output paths of every variant (and of GIFs, published as they are).
    pub fn out_paths(&self) -> impl Iterator<Item = String> + '_ {
        self.sources.iter().flat_map(|(rel, info, variants)| {
            let original = (info.format == SourceFormat::Gif).then(|| format!("media/{rel}"));
            variants.iter().map(|v| v.out_path.clone()).chain(original)
        })
    }
}

/// Makes sure every planned variant is in the cache, and stages it (when a
/// stager is given). Returns the report and one diagnostic per failed source.
pub fn process(
    plan: &ImagePlan,
    settings: &ImageSettings,
    stager: Option<&Stager>,
) -> (ImageReport, Vec<Diagnostic>) {
    let decoded = AtomicUsize::new(0);
    let encoded = AtomicUsize::new(0);
    let problems: Vec<Diagnostic> = plan
        .sources
        .par_iter()
        .filter_map(|(rel, info, variants)| {
            process_source(rel, info, variants, settings, stager, &decoded, &encoded).err()
        })
        .collect();
    let report = ImageReport {
        images: plan.sources.len(),
        variants: plan.sources.iter().map(|(_, _, v)| v.len()).sum(),
        decoded: decoded.into_inner(),
        encoded: encoded.into_inner(),
    };
    (report, problems)
}

fn cache_path(settings: &ImageSettings, variant: &Variant) -> PathBuf {
    settings.cache_dir.join(&variant.key[..2]).join(format!(
        "{}.{}",
        variant.key,
        variant.format.extension()
    ))
}

fn process_source(
    rel: &str,
    info: &ImageInfo,
    variants: &[Variant],
    settings: &ImageSettings,
    stager: Option<&Stager>,
    decoded: &AtomicUsize,
    encoded: &AtomicUsize,
) -> Result<(), Diagnostic> {
    let media_path = PathBuf::from("media").join(rel);
    let fail = |message: String| {
        Diagnostic::error(&media_path, message)
            .hint("re-export the image as JPEG, PNG or WebP, or stop using it")
    };
    if info.format == SourceFormat::Gif {
        // Published as it is, but only once every frame decodes, as for an
        // upload.
        let bytes =
            std::fs::read(&info.source).map_err(|e| fail(format!("cannot read the image: {e}")))?;
        source::decode(&bytes, settings).map_err(fail)?;
        decoded.fetch_add(1, Ordering::Relaxed);
        if let Some(stager) = stager {
            stager
                .copy(&format!("media/{rel}"), &info.source)
                .map_err(|e| fail(format!("cannot publish the image: {e}")))?;
        }
        return Ok(());
    }
    let missing: Vec<&Variant> = variants
        .iter()
        .filter(|v| !cache_path(settings, v).is_file())
        .collect();
    if !missing.is_empty() {
        let pixels = decode(info, settings).map_err(fail)?;
        decoded.fetch_add(1, Ordering::Relaxed);
        let mut resizer = fir::Resizer::new();
        // Each size is resized once (then encoded in every format), largest
        // first, and each from the next larger one of the same cut: far
        // cheaper than resizing the full original every time, and no visible
        // loss with a Lanczos filter.
        let mut sizes: Vec<(Crop, u32, u32)> = missing
            .iter()
            .map(|v| (v.crop, v.width, v.height))
            .collect();
        sizes.sort_by(|a, b| b.cmp(a));
        sizes.dedup();
        let mut previous: Option<(Crop, Pixels)> = None;
        for (crop, width, height) in sizes {
            let base = match &previous {
                Some((previous_crop, resized)) if *previous_crop == crop => resized,
                _ => &pixels,
            };
            let resized = resize(base, width, height, crop, &mut resizer).map_err(fail)?;
            for variant in missing
                .iter()
                .filter(|v| (v.crop, v.width, v.height) == (crop, width, height))
            {
                let bytes = encode(&resized, variant.format, settings).map_err(fail)?;
                let path = cache_path(settings, variant);
                write_cache(&path, &bytes).map_err(|e| {
                    fail(format!(
                        "cannot write the image cache {}: {e}",
                        path.display()
                    ))
                })?;
                encoded.fetch_add(1, Ordering::Relaxed);
            }
            previous = Some((crop, resized));
        }
    }
    if let Some(stager) = stager {
        for variant in variants {
            stager
                .copy(&variant.out_path, &cache_path(settings, variant))
                .map_err(|e| fail(format!("cannot publish {}: {e}", variant.out_path)))?;
        }
    }
    Ok(())
}

fn write_cache(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    crate::fsx::atomic_write(path, bytes, crate::fsx::Durability::Regenerable)
}

/// Decodes `info` under the limits, applies EXIF orientation and converts
/// embedded colour profiles to sRGB. Metadata goes no further than here.
pub fn decode(info: &ImageInfo, settings: &ImageSettings) -> Result<Pixels, String> {
    let bytes = std::fs::read(&info.source).map_err(|e| format!("cannot read the image: {e}"))?;
    source::decode(&bytes, settings)?.into_srgb()
}

/// `pixels` resized to `width`×`height`; for `Crop::Square` the centre
/// square is taken first.
pub fn resize(
    pixels: &Pixels,
    width: u32,
    height: u32,
    crop: Crop,
    resizer: &mut fir::Resizer,
) -> Result<Pixels, String> {
    if width == pixels.width && height == pixels.height {
        return Ok(Pixels {
            width,
            height,
            alpha: pixels.alpha,
            data: pixels.data.clone(),
        });
    }
    let pixel_type = if pixels.alpha {
        fir::PixelType::U8x4
    } else {
        fir::PixelType::U8x3
    };
    let source = fir::images::ImageRef::new(pixels.width, pixels.height, &pixels.data, pixel_type)
        .map_err(|e| format!("cannot resize the image: {e}"))?;
    let mut target = fir::images::Image::new(width, height, pixel_type);
    let mut options = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3));
    if crop == Crop::Square {
        options = options.fit_into_destination(Some((0.5, 0.5)));
    }
    resizer
        .resize(&source, &mut target, &options)
        .map_err(|e| format!("cannot resize the image: {e}"))?;
    Ok(Pixels {
        width,
        height,
        alpha: pixels.alpha,
        data: target.into_vec(),
    })
}

/// Encodes `pixels` as `format`, with no metadata.
pub fn encode(
    pixels: &Pixels,
    format: OutFormat,
    settings: &ImageSettings,
) -> Result<Vec<u8>, String> {
    let Pixels {
        width,
        height,
        alpha,
        ref data,
    } = *pixels;
    let mut out = Vec::with_capacity(data.len() / 8);
    let color = if alpha {
        image::ExtendedColorType::Rgba8
    } else {
        image::ExtendedColorType::Rgb8
    };
    match format {
        OutFormat::Jpeg => {
            let (w, h) = (u16::try_from(width), u16::try_from(height));
            let (Ok(w), Ok(h)) = (w, h) else {
                return Err("the image is too large for JPEG".into());
            };
            let mut encoder = jpeg_encoder::Encoder::new(&mut out, settings.jpeg_quality);
            // Baseline with the standard Huffman tables. Measured on photos,
            // progressive with optimised tables was larger and slower, and
            // baseline with optimised tables decodes to wrong colours
            // (jpeg-encoder 0.7.1): `every_format_keeps_colours` guards it.
            encoder.set_progressive(false);
            encoder.set_optimized_huffman_tables(false);
            let color = if alpha {
                jpeg_encoder::ColorType::Rgba
            } else {
                jpeg_encoder::ColorType::Rgb
            };
            encoder
                .encode(data, w, h, color)
                .map_err(|e| format!("cannot encode JPEG: {e}"))?;
        }
        OutFormat::Png => {
            use image::ImageEncoder as _;
            let encoder = image::codecs::png::PngEncoder::new_with_quality(
                &mut out,
                image::codecs::png::CompressionType::Default,
                image::codecs::png::FilterType::Adaptive,
            );
            encoder
                .write_image(data, width, height, color)
                .map_err(|e| format!("cannot encode PNG: {e}"))?;
        }
        OutFormat::Webp => {
            let encoder = if alpha {
                webp::Encoder::from_rgba(data, width, height)
            } else {
                webp::Encoder::from_rgb(data, width, height)
            };
            let mut config = webp::WebPConfig::new()
                .map_err(|()| "cannot set up the WebP encoder".to_string())?;
            config.quality = f32::from(settings.webp_quality);
            config.method = i32::from(settings.webp_effort);
            config.alpha_compression = 1;
            let encoded = encoder
                .encode_advanced(&config)
                .map_err(|e| format!("cannot encode WebP: {e:?}"))?;
            out.extend_from_slice(&encoded);
        }
        OutFormat::Avif => {
            use image::ImageEncoder as _;
            let encoder = image::codecs::avif::AvifEncoder::new_with_speed_quality(
                &mut out,
                8,
                settings.avif_quality,
            );
            encoder
                .write_image(data, width, height, color)
                .map_err(|e| format!("cannot encode AVIF: {e}"))?;
        }
    }
    Ok(out)
}

/// Whether `entry` can be used as an image, and why not.
pub fn usable(entry: Option<&MediaEntry>) -> Result<&ImageInfo, String> {
    match entry {
        Some(MediaEntry::Image(info)) => Ok(info),
        Some(MediaEntry::Broken(reason)) => Err(reason.clone()),
        Some(MediaEntry::Vector(_)) => Err(
            "an SVG drawing can be shown in a post, but not as a cover or avatar; use JPEG, PNG, WebP or GIF".into(),
        ),
        Some(MediaEntry::Other(_)) => {
            Err("not an image: the content is not JPEG, PNG, WebP or GIF".into())
        }
        None => Err("it does not exist in media/".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(width: u32, height: u32, rgb: [u8; 3]) -> Pixels {
        Pixels {
            width,
            height,
            alpha: false,
            data: rgb.repeat((width * height) as usize),
        }
    }

    #[test]
    fn every_format_keeps_colours() {
        let settings = crate::config::Config::for_test(Path::new("/site")).images;
        for format in [OutFormat::Jpeg, OutFormat::Png, OutFormat::Webp] {
            let bytes = encode(&solid(100, 200, [220, 20, 20]), format, &settings).unwrap();
            let decoded = image::load_from_memory(&bytes).unwrap().to_rgb8();
            let pixel = decoded.get_pixel(50, 100);
            assert!(
                pixel[0] > 190 && pixel[1] < 50 && pixel[2] < 50,
                "{format:?}: {pixel:?}"
            );
        }
    }
}

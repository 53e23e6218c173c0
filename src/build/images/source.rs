//! Reading a source image, the one way the build and the server both use:
//! its type from the bytes, its header against the limits, then every
//! pixel.
//!
//! An image the build can publish is exactly an image an upload accepts,
//! with the same message when it is refused: [`header`] is all the build's
//! probe of media/ needs (no pixel is decoded for files no page uses), and
//! [`decode`] is what both the build's variants and an upload go through
//! before anything is written. A truncated file, a decompression bomb or a
//! damaged frame is refused here, once.

use std::io::Cursor;

use image::codecs::gif::GifDecoder;
use image::metadata::Orientation;
use image::{AnimationDecoder as _, DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use super::SourceFormat;
use crate::config::ImageSettings;

/// Decoded, upright, sRGB pixels: RGB8, or RGBA8 when the source has alpha.
#[derive(Debug)]
pub struct Pixels {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Four channels instead of three.
    pub alpha: bool,
    /// Row-major samples.
    pub data: Vec<u8>,
}

/// What the header says, checked against every limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The type, from the bytes.
    pub format: SourceFormat,
    /// Width as stored (before EXIF orientation).
    pub width: u32,
    /// Height as stored.
    pub height: u32,
    /// Has an alpha channel.
    pub alpha: bool,
    /// EXIF orientation (JPEG, PNG and WebP carry one).
    pub orientation: Orientation,
}

impl Header {
    /// Width and height once the orientation is applied.
    pub fn oriented(&self) -> (u32, u32) {
        oriented(self.width, self.height, self.orientation)
    }
}

/// Every pixel of an image, upright, in its own colour space.
#[derive(Debug)]
pub struct Decoded {
    /// The header the pixels were decoded under.
    pub header: Header,
    /// The embedded colour profile, if any.
    icc: Option<Vec<u8>>,
    /// Upright pixels (the first frame of an animation), not yet in sRGB.
    pixels: Pixels,
}

impl Decoded {
    /// The pixels converted to sRGB, for encoding untagged outputs.
    pub fn into_srgb(self) -> Result<Pixels, String> {
        let mut pixels = self.pixels;
        if let Some(icc) = self.icc {
            to_srgb(&icc, pixels.alpha, &mut pixels.data)?;
        }
        Ok(pixels)
    }
}

impl SourceFormat {
    /// The `image` crate's name for the type.
    pub fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::Webp => ImageFormat::WebP,
            Self::Gif => ImageFormat::Gif,
        }
    }
}

/// The raster type of `bytes` by their magic numbers (JPEG, PNG, GIF,
/// WebP): the only types quire resizes, accepts or serves as originals.
/// Names and declared types are never trusted.
pub fn sniff(bytes: &[u8]) -> Option<SourceFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(SourceFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(SourceFormat::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(SourceFormat::Gif)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(SourceFormat::Webp)
    } else {
        None
    }
}

/// Decoding limits from the settings.
pub fn limits(settings: &ImageSettings) -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(settings.max_width);
    limits.max_image_height = Some(settings.max_height);
    limits.max_alloc = Some(settings.max_alloc);
    limits
}

/// Refuses a file larger than the decoding memory limit before it is read
/// whole (the probe knows the size from the file system).
pub fn check_size(bytes: u64, settings: &ImageSettings) -> Result<(), String> {
    if bytes > settings.max_alloc {
        return Err(format!(
            "the file is {} MiB, over the decoding limit of {} MiB (images.max_alloc_mib)",
            bytes / (1024 * 1024),
            settings.max_alloc / (1024 * 1024)
        ));
    }
    Ok(())
}

/// The header of a JPEG, PNG, GIF or WebP image, checked against the byte,
/// dimension and pixel limits before any pixel is decoded.
pub fn header(bytes: &[u8], settings: &ImageSettings) -> Result<Header, String> {
    header_and_decoder(bytes, settings).map(|(header, _)| header)
}

fn header_and_decoder<'a>(
    bytes: &'a [u8],
    settings: &ImageSettings,
) -> Result<(Header, impl ImageDecoder + 'a), String> {
    let format = sniff(bytes)
        .ok_or_else(|| "not an image: the content is not JPEG, PNG, WebP or GIF".to_string())?;
    check_size(bytes.len() as u64, settings)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(limits(settings));
    let mut decoder = reader
        .into_decoder()
        .map_err(|err| describe_error(&err, settings))?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, settings)?;
    let header = Header {
        format,
        width,
        height,
        alpha: decoder.color_type().has_alpha(),
        orientation: decoder.orientation().unwrap_or(Orientation::NoTransforms),
    };
    Ok((header, decoder))
}

/// Every pixel of the image (every frame of an animation), under the
/// limits: an image that passes here can be published and resized. The
/// pixels come back upright; a GIF's are its first frame.
pub fn decode(bytes: &[u8], settings: &ImageSettings) -> Result<Decoded, String> {
    let (header, mut decoder) = header_and_decoder(bytes, settings)?;
    if header.format == SourceFormat::Jpeg && !jpeg_is_complete(bytes) {
        // The decoder fills a truncated scan with grey instead of failing.
        return Err(
            "the JPEG file is truncated: its end marker is missing; export or copy the whole file again"
                .into(),
        );
    }
    let icc = decoder.icc_profile().ok().flatten();
    let mut image = if header.format == SourceFormat::Gif {
        drop(decoder);
        first_of_every_frame(bytes, settings)?
    } else {
        DynamicImage::from_decoder(decoder).map_err(|e| describe_error(&e, settings))?
    };
    image.apply_orientation(header.orientation);
    let alpha = image.color().has_alpha();
    let (width, height) = (image.width(), image.height());
    let data = if alpha {
        image.into_rgba8().into_raw()
    } else {
        image.into_rgb8().into_raw()
    };
    Ok(Decoded {
        header,
        icc,
        pixels: Pixels {
            width,
            height,
            alpha,
            data,
        },
    })
}

/// Decodes every frame of a GIF (a damaged later frame breaks it in a
/// browser too) and keeps the first.
fn first_of_every_frame(bytes: &[u8], settings: &ImageSettings) -> Result<DynamicImage, String> {
    let mut decoder =
        GifDecoder::new(Cursor::new(bytes)).map_err(|e| describe_error(&e, settings))?;
    decoder
        .set_limits(limits(settings))
        .map_err(|e| describe_error(&e, settings))?;
    let mut first = None;
    for frame in decoder.into_frames() {
        let frame = frame.map_err(|e| describe_error(&e, settings))?;
        if first.is_none() {
            first = Some(DynamicImage::ImageRgba8(frame.into_buffer()));
        }
    }
    first.ok_or_else(|| "the GIF has no frames".to_string())
}

/// The pixel-count limit (the width and height limits are checked by the
/// decoder).
pub fn check_pixels(width: u32, height: u32, settings: &ImageSettings) -> Result<(), String> {
    if width == 0 || height == 0 {
        return Err("the image has no pixels".into());
    }
    if u64::from(width) * u64::from(height) > settings.max_pixels {
        return Err(format!(
            "the image is {width}×{height} pixels, over the limit of {} megapixels (images.max_megapixels)",
            settings.max_pixels / 1_000_000
        ));
    }
    Ok(())
}

/// Width and height once EXIF orientation is applied.
pub fn oriented(width: u32, height: u32, orientation: Orientation) -> (u32, u32) {
    use Orientation::*;
    match orientation {
        Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH => (height, width),
        _ => (width, height),
    }
}

/// A decoder error in words an author can act on.
pub fn describe_error(err: &image::ImageError, settings: &ImageSettings) -> String {
    match err {
        image::ImageError::Limits(_) => format!(
            "the image is larger than the limits allow ({}×{} pixels, {} MiB of memory; images.max_width, max_height, max_alloc_mib)",
            settings.max_width,
            settings.max_height,
            settings.max_alloc / (1024 * 1024)
        ),
        image::ImageError::Unsupported(e) => format!("unsupported image: {}", e.to_string().trim()),
        other => format!("cannot decode the image: {}", other.to_string().trim()),
    }
}

/// True when an end-of-image marker follows the first scan's header. The
/// segments before the scan are walked by their lengths, so the markers of
/// an EXIF thumbnail inside APP1 are never taken for the image's own.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let Some(scan) = first_scan(bytes) else {
        return false;
    };
    bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Where the first scan's entropy-coded data starts.
fn first_scan(bytes: &[u8]) -> Option<usize> {
    let mut i = 2;
    loop {
        if *bytes.get(i)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(i + 1)?;
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]));
        if len < 2 {
            return None;
        }
        i += 2 + len;
        if marker == 0xDA {
            return (i <= bytes.len()).then_some(i);
        }
    }
}

/// Converts samples tagged with ICC profile `icc` to sRGB, so outputs can be
/// untagged (browsers read untagged images as sRGB).
fn to_srgb(icc: &[u8], alpha: bool, data: &mut [u8]) -> Result<(), String> {
    let Ok(source) = moxcms::ColorProfile::new_from_slice(icc) else {
        // An unreadable profile: keep the pixels as they are, as browsers would.
        return Ok(());
    };
    let layout = if alpha {
        moxcms::Layout::Rgba
    } else {
        moxcms::Layout::Rgb
    };
    let srgb = moxcms::ColorProfile::new_srgb();
    let Ok(transform) =
        source.create_transform_8bit(layout, &srgb, layout, moxcms::TransformOptions::default())
    else {
        return Ok(());
    };
    let input = data.to_vec();
    transform
        .transform(&input, data)
        .map_err(|e| format!("cannot convert the colour profile: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completeness_skips_an_exif_thumbnail() {
        // SOI, an APP1 whose payload holds a whole thumbnail (SOS … EOI),
        // then the image's own scan without its end marker.
        let mut jpeg = vec![0xFF, 0xD8];
        let thumbnail = [0xFF, 0xDA, 0x00, 0x02, 0x11, 0xFF, 0xD9];
        jpeg.extend_from_slice(&[0xFF, 0xE1, 0x00, (2 + thumbnail.len()) as u8]);
        jpeg.extend_from_slice(&thumbnail);
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34]);
        assert!(
            !jpeg_is_complete(&jpeg),
            "the thumbnail's end marker is not the image's"
        );
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        assert!(jpeg_is_complete(&jpeg));
        assert!(
            !jpeg_is_complete(&[0xFF, 0xD8, 0xFF]),
            "cut inside a segment"
        );
    }

    #[test]
    fn sniffing_trusts_bytes_not_names() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Some(SourceFormat::Jpeg));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(SourceFormat::Webp));
        assert_eq!(sniff(b"<svg xmlns="), None);
        assert_eq!(sniff(b"BM\0\0"), None);
    }
}

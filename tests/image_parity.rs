//! Upload, avatar and build accept exactly the same images: every file of a
//! corpus generated here (each JPEG, PNG, WebP and GIF shape that cameras,
//! phones and editors write, plus two small libjpeg fixtures) goes through
//! POST /api/v1/media and PUT /api/v1/me/avatar of a real server, and
//! through `quire build` as a picture in a post. Valid images are accepted
//! by all three; hostile files are refused by all three, with the same
//! message where the file is of an image type.

use std::collections::BTreeMap;
use std::io::Cursor;

use image::{Rgb, RgbImage, RgbaImage};
use jpeg_encoder::{ColorType, Encoder as JpegEncoder, SamplingFactor};

use crate::support::server::Server;
use crate::support::{Site, crc32, png_header, repo_root};

/// A file of the corpus and the size it is seen at (after EXIF orientation).
struct Case {
    name: String,
    bytes: Vec<u8>,
    /// Width and height once upright, for valid images.
    size: Option<(u32, u32)>,
}

fn valid(name: &str, bytes: Vec<u8>, size: (u32, u32)) -> Case {
    Case {
        name: name.to_string(),
        bytes,
        size: Some(size),
    }
}

fn hostile(name: &str, bytes: Vec<u8>) -> Case {
    Case {
        name: name.to_string(),
        bytes,
        size: None,
    }
}

/// A photo-like test card: gradients plus fine texture, so encoders work
/// as on a real picture.
fn rgb(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let texture = ((x * 7 + y * 13) % 23) as u8;
        Rgb([
            ((x * 255) / width.max(1)) as u8 ^ texture,
            ((y * 255) / height.max(1)) as u8,
            128 + texture * 3,
        ])
    })
}

fn rgba(width: u32, height: u32) -> RgbaImage {
    let base = rgb(width, height);
    RgbaImage::from_fn(width, height, |x, y| {
        let [r, g, b] = base.get_pixel(x, y).0;
        image::Rgba([r, g, b, ((x + y) * 255 / (width + height)) as u8])
    })
}

/// EXIF (the APP1 payload) with an orientation and, optionally, a GPS block
/// as a phone writes it: latitude and longitude with their references.
fn exif(orientation: Option<u16>, gps: bool) -> Vec<u8> {
    let ifd0_count = u16::from(orientation.is_some()) + u16::from(gps);
    let gps_at = 8 + 2 + 12 * u32::from(ifd0_count) + 4;
    let data_at = gps_at + 2 + 12 * 4 + 4;
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend(tag.to_le_bytes());
        tiff.extend(kind.to_le_bytes());
        tiff.extend(count.to_le_bytes());
        tiff.extend(value);
    };
    tiff.extend(ifd0_count.to_le_bytes());
    if let Some(orientation) = orientation {
        entry(
            &mut tiff,
            0x0112,
            3,
            1,
            u32::from(orientation).to_le_bytes(),
        );
    }
    if gps {
        entry(&mut tiff, 0x8825, 4, 1, gps_at.to_le_bytes());
    }
    tiff.extend(0u32.to_le_bytes());
    if gps {
        tiff.extend(4u16.to_le_bytes());
        entry(&mut tiff, 1, 2, 2, *b"N\0\0\0");
        entry(&mut tiff, 2, 5, 3, data_at.to_le_bytes());
        entry(&mut tiff, 3, 2, 2, *b"E\0\0\0");
        entry(&mut tiff, 4, 5, 3, (data_at + 24).to_le_bytes());
        tiff.extend(0u32.to_le_bytes());
        for (numerator, denominator) in
            [(52, 1), (22, 1), (1250, 100), (4, 1), (53, 1), (3010, 100)]
        {
            tiff.extend(u32::to_le_bytes(numerator));
            tiff.extend(u32::to_le_bytes(denominator));
        }
    }
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff);
    payload
}

/// JPEG options the corpus varies.
#[derive(Default, Clone, Copy)]
struct Jpeg {
    sampling: Option<SamplingFactor>,
    progressive: bool,
    restart: u16,
    orientation: Option<u16>,
    gps: bool,
    icc: bool,
}

fn jpeg(width: u32, height: u32, color: ColorType, options: Jpeg) -> Vec<u8> {
    let pixels = rgb(width, height);
    let data: Vec<u8> = match color {
        ColorType::Luma => pixels.pixels().map(|p| p.0[1]).collect(),
        ColorType::Cmyk => pixels
            .pixels()
            .flat_map(|p| [255 - p.0[0], 255 - p.0[1], 255 - p.0[2], 20])
            .collect(),
        _ => pixels.into_raw(),
    };
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new(&mut out, 88);
    if let Some(sampling) = options.sampling {
        encoder.set_sampling_factor(sampling);
    }
    encoder.set_progressive(options.progressive);
    if options.restart > 0 {
        encoder.set_restart_interval(options.restart);
    }
    if options.orientation.is_some() || options.gps {
        encoder
            .add_app_segment(1, exif(options.orientation, options.gps))
            .unwrap();
    }
    if options.icc {
        let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
        encoder.add_icc_profile(&p3).unwrap();
    }
    encoder
        .encode(&data, width as u16, height as u16, color)
        .unwrap();
    out
}

fn png(
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    palette: Option<(&[u8], Option<&[u8]>)>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(depth);
    if let Some((palette, trns)) = palette {
        encoder.set_palette(palette.to_vec());
        if let Some(trns) = trns {
            encoder.set_trns(trns.to_vec());
        }
    }
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(data).unwrap();
    writer.finish().unwrap();
    out
}

fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// An Adam7-interlaced RGB PNG, written by hand (the `png` crate writes
/// only progressive rows): seven passes, filter 0, stored deflate blocks.
fn adam7_png(width: u32, height: u32) -> Vec<u8> {
    let pixels = rgb(width, height);
    let mut raw = Vec::new();
    for (x0, y0, dx, dy) in [
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ] {
        if x0 >= width || y0 >= height {
            continue;
        }
        for y in (y0..height).step_by(dy) {
            raw.push(0);
            for x in (x0..width).step_by(dx) {
                raw.extend_from_slice(&pixels.get_pixel(x, y).0);
            }
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (index, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(index + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend(len.to_le_bytes());
        zlib.extend((!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend(((b << 16) | a).to_be_bytes());
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 1]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &zlib));
    out.extend(chunk(b"IEND", b""));
    out
}

fn webp_lossy(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    if alpha {
        let pixels = rgba(width, height);
        webp::Encoder::from_rgba(pixels.as_raw(), width, height)
            .encode(80.0)
            .to_vec()
    } else {
        let pixels = rgb(width, height);
        webp::Encoder::from_rgb(pixels.as_raw(), width, height)
            .encode(80.0)
            .to_vec()
    }
}

fn webp_lossless(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    if alpha {
        let pixels = rgba(width, height);
        webp::Encoder::from_rgba(pixels.as_raw(), width, height)
            .encode_lossless()
            .to_vec()
    } else {
        let pixels = rgb(width, height);
        webp::Encoder::from_rgb(pixels.as_raw(), width, height)
            .encode_lossless()
            .to_vec()
    }
}

fn gif(width: u32, height: u32, frames: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
        if frames > 1 {
            encoder
                .set_repeat(image::codecs::gif::Repeat::Infinite)
                .unwrap();
        }
        let frames = (0..frames).map(|i| {
            let mut canvas = rgba(width, height);
            for pixel in canvas.pixels_mut() {
                pixel.0[3] = 255;
                pixel.0[0] = pixel.0[0].wrapping_add((i * 60) as u8);
            }
            image::Frame::from_parts(canvas, 0, 0, image::Delay::from_numer_denom_ms(120, 1))
        });
        encoder.encode_frames(frames).unwrap();
    }
    out
}

/// Every shape of valid image the issue lists.
fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    let fixtures = repo_root().join("tests/fixtures/images");
    for name in ["libjpeg-16x12.jpg", "libjpeg-16x12-gps.jpg"] {
        cases.push(valid(
            name,
            std::fs::read(fixtures.join(name)).unwrap(),
            (16, 12),
        ));
    }
    let base = Jpeg::default();
    let rgb_jpeg = ColorType::Rgb;
    let jpegs = [
        (
            "jpeg-444.jpg",
            rgb_jpeg,
            Jpeg {
                sampling: Some(SamplingFactor::R_4_4_4),
                ..base
            },
        ),
        (
            "jpeg-422.jpg",
            rgb_jpeg,
            Jpeg {
                sampling: Some(SamplingFactor::R_4_2_2),
                ..base
            },
        ),
        (
            "jpeg-420.jpg",
            rgb_jpeg,
            Jpeg {
                sampling: Some(SamplingFactor::R_4_2_0),
                ..base
            },
        ),
        (
            "jpeg-progressive.jpg",
            rgb_jpeg,
            Jpeg {
                progressive: true,
                ..base
            },
        ),
        ("jpeg-restart.jpg", rgb_jpeg, Jpeg { restart: 2, ..base }),
        ("jpeg-gray.jpg", ColorType::Luma, base),
        ("jpeg-cmyk.jpg", ColorType::Cmyk, base),
        ("jpeg-gps.jpg", rgb_jpeg, Jpeg { gps: true, ..base }),
        ("jpeg-icc-p3.jpg", rgb_jpeg, Jpeg { icc: true, ..base }),
    ];
    for (name, color, options) in jpegs {
        cases.push(valid(name, jpeg(64, 48, color, options), (64, 48)));
    }
    for orientation in 1..=8u16 {
        let options = Jpeg {
            orientation: Some(orientation),
            ..base
        };
        let upright = if orientation >= 5 { (48, 64) } else { (64, 48) };
        cases.push(valid(
            &format!("jpeg-orientation-{orientation}.jpg"),
            jpeg(64, 48, ColorType::Rgb, options),
            upright,
        ));
    }
    let camera = Jpeg {
        sampling: Some(SamplingFactor::R_4_2_0),
        gps: true,
        icc: true,
        ..base
    };
    cases.push(valid(
        "camera-6000x4000.jpg",
        jpeg(6000, 4000, ColorType::Rgb, camera),
        (6000, 4000),
    ));
    cases.push(valid(
        "jpeg-1x1.jpg",
        jpeg(1, 1, ColorType::Rgb, base),
        (1, 1),
    ));

    let (w, h) = (40, 30);
    let indices: Vec<u8> = (0..w * h).map(|i| (i % 4) as u8).collect();
    let palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255];
    use png::{BitDepth::*, ColorType as Png};
    cases.push(valid(
        "png-palette.png",
        png(w, h, Png::Indexed, Eight, &indices, Some((&palette, None))),
        (w, h),
    ));
    cases.push(valid(
        "png-palette-trns.png",
        png(
            w,
            h,
            Png::Indexed,
            Eight,
            &indices,
            Some((&palette, Some(&[0, 128]))),
        ),
        (w, h),
    ));
    let gray: Vec<u8> = rgb(w, h).pixels().map(|p| p.0[0]).collect();
    cases.push(valid(
        "png-gray.png",
        png(w, h, Png::Grayscale, Eight, &gray, None),
        (w, h),
    ));
    let gray_alpha: Vec<u8> = gray.iter().flat_map(|&g| [g, 255 - g]).collect();
    cases.push(valid(
        "png-gray-alpha.png",
        png(w, h, Png::GrayscaleAlpha, Eight, &gray_alpha, None),
        (w, h),
    ));
    cases.push(valid(
        "png-rgba.png",
        png(w, h, Png::Rgba, Eight, rgba(w, h).as_raw(), None),
        (w, h),
    ));
    let sixteen: Vec<u8> = rgb(w, h)
        .as_raw()
        .iter()
        .flat_map(|&v| [v, v ^ 0x5A])
        .collect();
    cases.push(valid(
        "png-16-bit.png",
        png(w, h, Png::Rgb, Sixteen, &sixteen, None),
        (w, h),
    ));
    cases.push(valid("png-adam7.png", adam7_png(w, h), (w, h)));
    cases.push(valid(
        "png-1x1.png",
        png(1, 1, Png::Rgb, Eight, &[9, 99, 199], None),
        (1, 1),
    ));

    cases.push(valid("webp-lossy.webp", webp_lossy(w, h, false), (w, h)));
    cases.push(valid(
        "webp-lossless.webp",
        webp_lossless(w, h, false),
        (w, h),
    ));
    cases.push(valid(
        "webp-lossy-alpha.webp",
        webp_lossy(w, h, true),
        (w, h),
    ));
    cases.push(valid(
        "webp-lossless-alpha.webp",
        webp_lossless(w, h, true),
        (w, h),
    ));
    cases.push(valid("webp-1x1.webp", webp_lossless(1, 1, false), (1, 1)));

    cases.push(valid("gif-static.gif", gif(w, h, 1), (w, h)));
    cases.push(valid("gif-animated.gif", gif(w, h, 4), (w, h)));
    cases.push(valid("gif-1x1.gif", gif(1, 1, 1), (1, 1)));
    cases
}

/// Files that must stay refused. `true` marks files of an image type, which
/// every path refuses with the same message.
fn hostiles() -> Vec<(Case, bool)> {
    let whole = jpeg(64, 48, ColorType::Rgb, Jpeg::default());
    let mut bad_crc = png(
        8,
        8,
        png::ColorType::Rgb,
        png::BitDepth::Eight,
        rgb(8, 8).as_raw(),
        None,
    );
    let iend = bad_crc.len() - 12;
    bad_crc[iend - 1] ^= 0xFF; // the IDAT chunk's CRC
    let mut broken_frame = gif(16, 16, 3);
    let cut = broken_frame.len() - 30;
    broken_frame.truncate(cut);
    broken_frame.push(0x3B);
    vec![
        (
            hostile("truncated.jpg", whole[..whole.len() - 40].to_vec()),
            true,
        ),
        (hostile("half.jpg", whole[..whole.len() / 2].to_vec()), true),
        (hostile("bad-crc.png", bad_crc), true),
        (hostile("bomb.png", png_header(15_000, 15_000)), true),
        (hostile("huge.png", png_header(60_000, 60_000)), true),
        (hostile("broken-frame.gif", broken_frame), true),
        (
            hostile(
                "script.svg",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
            ),
            false,
        ),
        (
            hostile(
                "page.jpg",
                b"<!DOCTYPE html><script>alert(1)</script>".to_vec(),
            ),
            false,
        ),
        (
            hostile(
                "polyglot.gif",
                b"GIF89a=1;alert(document.domain)//".to_vec(),
            ),
            true,
        ),
    ]
}

/// What one path made of a file: its upright size, or why it refused.
type Outcome = Result<(u32, u32), String>;

fn upload(server: &Server, client: &crate::support::server::Client, case: &Case) -> [Outcome; 2] {
    let media = client.upload("POST", "/api/v1/media", &case.name, &case.bytes);
    let media = if media.status == 201 {
        let stored = &media.json["path"];
        let original = std::fs::read(
            server
                .site
                .path(&format!("media/{}", stored.as_str().unwrap())),
        )
        .unwrap();
        for secret in [&b"<script"[..], b"alert(", b"Exif\0\0"] {
            assert!(
                !original.windows(secret.len()).any(|w| w == secret),
                "{}: the stored file still holds {:?}",
                case.name,
                String::from_utf8_lossy(secret)
            );
        }
        let decoded = image::ImageReader::new(Cursor::new(&original))
            .with_guessed_format()
            .unwrap()
            .into_dimensions()
            .unwrap();
        assert_eq!(
            decoded,
            (
                media.json["width"].as_u64().unwrap() as u32,
                media.json["height"].as_u64().unwrap() as u32
            ),
            "{}: the stored file is the size the reply says",
            case.name
        );
        Ok(decoded)
    } else {
        assert!(
            matches!(media.status, 415 | 422),
            "{}: {} {}",
            case.name,
            media.status,
            media.text
        );
        Err(media.json["error"]["message"].as_str().unwrap().to_string())
    };
    let avatar = client.upload("PUT", "/api/v1/me/avatar", &case.name, &case.bytes);
    let avatar = match avatar.status {
        200 | 201 => Ok(case.size.unwrap_or_default()),
        415 | 422 => Err(avatar.json["error"]["message"]
            .as_str()
            .unwrap()
            .to_string()),
        other => panic!("{}: avatar {other} {}", case.name, avatar.text),
    };
    [media, avatar]
}

/// Builds a site with every file in media/corpus/ shown by its own post,
/// and returns what the build made of each: no error, or the reason.
fn build(cases: &[&Case]) -> BTreeMap<String, Option<String>> {
    let site = Site::fixture("basic");
    for (index, case) in cases.iter().enumerate() {
        site.write(&format!("media/corpus/{}", case.name), &case.bytes);
        site.write(
            &format!("content/posts/corpus-{index}.md"),
            format!(
                "---\ntitle: Corpus {index}\ndate: 2024-02-01\n---\n\n![{0}](/media/corpus/{0})\n",
                case.name
            ),
        );
    }
    let run = site.quire(&["build", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    let errors = report["errors"].as_array().unwrap();
    let mut outcomes = BTreeMap::new();
    for case in cases {
        let url = format!("/media/corpus/{}", case.name);
        let shown = format!("image `{url}` cannot be shown: ");
        let reasons: Vec<String> = errors
            .iter()
            .filter_map(|error| {
                let message = error["message"].as_str().unwrap();
                if error["path"] == format!("media/corpus/{}", case.name) {
                    Some(message.to_string())
                } else {
                    message.strip_prefix(&shown).map(str::to_string)
                }
            })
            .collect();
        assert!(reasons.len() <= 1, "{}: {reasons:?}", case.name);
        outcomes.insert(case.name.clone(), reasons.into_iter().next());
    }
    assert_eq!(
        run.code,
        i32::from(outcomes.values().any(Option::is_some)),
        "{}",
        run.stderr
    );
    outcomes
}

#[test]
fn upload_avatar_and_build_accept_exactly_the_same_images() {
    let server = Server::start();
    let bob = server.login("bob");
    let corpus = corpus();
    let hostiles = hostiles();
    let mut uploaded = BTreeMap::new();
    for case in corpus.iter().chain(hostiles.iter().map(|(c, _)| c)) {
        uploaded.insert(case.name.clone(), upload(&server, &bob, case));
        if case.name.starts_with("camera-") {
            let peak = peak_rss_mib(server.pid());
            eprintln!("server peak RSS after the 6000x4000 upload: {peak} MiB");
            assert!(peak < 300, "the server peaked at {peak} MiB");
        }
    }
    // One build for the whole valid corpus; one per hostile file, since a
    // build with errors in its pages stops before decoding any image.
    let mut built = build(&corpus.iter().collect::<Vec<_>>());
    for (case, _) in &hostiles {
        built.extend(build(&[case]));
    }
    for case in &corpus {
        let [media, avatar] = &uploaded[&case.name];
        assert_eq!(media, &Ok(case.size.unwrap()), "{}: upload", case.name);
        assert!(avatar.is_ok(), "{}: avatar {avatar:?}", case.name);
        assert_eq!(built[&case.name], None, "{}: build", case.name);
    }
    for (case, typed) in &hostiles {
        let [media, avatar] = &uploaded[&case.name];
        let (Err(media), Err(avatar), Some(build)) = (media, avatar, &built[&case.name]) else {
            panic!(
                "{}: refused by every path: upload {media:?}, avatar {avatar:?}, build {:?}",
                case.name, built[&case.name]
            );
        };
        assert_eq!(media, avatar, "{}", case.name);
        if *typed {
            assert_eq!(media, build, "{}: same message in the build", case.name);
        }
    }
    let truncated = &uploaded["truncated.jpg"][0];
    assert_eq!(
        truncated.as_ref().unwrap_err(),
        "the JPEG file is truncated: its end marker is missing; export or copy the whole file again"
    );
}

/// The peak resident memory of process `pid`, from /proc (Linux).
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/PID/status");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024
}

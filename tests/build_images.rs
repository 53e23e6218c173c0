//! Responsive images: variants, orientation, metadata, markup, avatars,
//! the cache, and every image error.

use std::io::Cursor;

use image::{ImageEncoder, RgbImage};

use crate::support::{Site, assert_build_fails, jpeg, png_header};

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, 128, 200])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

fn post_with_image(site: &Site, slug: &str, image: &str) {
    site.write(
        &format!("content/posts/{slug}.md"),
        format!("---\ntitle: Pictures {slug}\ndate: 2024-01-10\n---\n\nIntro.\n\n![A {slug} photo](/media/{image})\n"),
    );
}

/// Output files under public/media/ whose names start with `prefix`.
fn media_files(site: &Site, prefix: &str) -> Vec<(String, Vec<u8>)> {
    site.tree("public/media")
        .into_iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, (bytes, _))| (k, bytes))
        .collect()
}

fn dimensions(bytes: &[u8]) -> (u32, u32) {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .unwrap()
        .into_dimensions()
        .unwrap()
}

fn report(site: &Site) -> serde_json::Value {
    let run = site.quire(&["build", "--json"]);
    run.assert_code(0);
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn variants_have_configured_widths_both_formats_and_are_never_upscaled() {
    let site = Site::fixture("basic");
    site.write("media/wide.jpg", jpeg(2000, 1000, None));
    site.write("media/small.jpg", jpeg(300, 200, None));
    post_with_image(&site, "wide", "wide.jpg");
    post_with_image(&site, "small", "small.jpg");
    site.build();
    let wide = media_files(&site, "wide-");
    let mut found: Vec<(String, (u32, u32))> = wide
        .iter()
        .map(|(name, bytes)| {
            (
                name.rsplit('.').next().unwrap().to_string(),
                dimensions(bytes),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("jpg".to_string(), (480, 240)),
            ("jpg".into(), (960, 480)),
            ("jpg".into(), (1600, 800)),
            ("webp".into(), (480, 240)),
            ("webp".into(), (960, 480)),
            ("webp".into(), (1600, 800)),
        ]
    );
    let small = media_files(&site, "small-");
    assert_eq!(
        small.len(),
        2,
        "one width (the source's own) in two formats"
    );
    assert!(
        small
            .iter()
            .all(|(_, bytes)| dimensions(bytes) == (300, 200))
    );
    assert!(
        !site.exists("public/media/wide.jpg"),
        "originals are not published"
    );
}

#[test]
fn webp_is_clearly_smaller_than_jpeg() {
    let site = Site::fixture("basic");
    // A photo-like image: smooth gradients with some texture.
    let img = RgbImage::from_fn(1600, 1000, |x, y| {
        let noise = ((x * 7919 + y * 104_729) % 17) as u8;
        image::Rgb([(x / 7) as u8 ^ noise, (y / 4) as u8, ((x + y) / 11) as u8])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 92)
        .write_image(img.as_raw(), 1600, 1000, image::ExtendedColorType::Rgb8)
        .unwrap();
    site.write("media/photo.jpg", &bytes);
    post_with_image(&site, "photo", "photo.jpg");
    site.build();
    let files = media_files(&site, "photo-1600w-");
    let size = |ext: &str| {
        files
            .iter()
            .find(|(n, _)| n.ends_with(ext))
            .unwrap()
            .1
            .len()
    };
    assert!(
        size(".webp") * 10 < size(".jpg") * 8,
        "webp {} vs jpeg {}",
        size(".webp"),
        size(".jpg")
    );
}

#[test]
fn exif_orientation_is_applied_and_metadata_stripped() {
    let site = Site::fixture("basic");
    // Stored 200×100 (left red, right blue); orientation 6 shows it rotated 90° clockwise.
    site.write("media/turned.jpg", jpeg(200, 100, Some(6)));
    post_with_image(&site, "turned", "turned.jpg");
    site.build();
    let html = site.read("public/posts/turned/index.html");
    assert!(
        html.contains("width=\"100\" height=\"200\""),
        "upright dimensions in the markup"
    );
    for (name, bytes) in media_files(&site, "turned-") {
        assert!(
            !bytes.windows(4).any(|w| w == b"Exif"),
            "{name} still has EXIF"
        );
        let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (100, 200), "{name}");
        let (top, bottom) = (img.get_pixel(50, 20), img.get_pixel(50, 180));
        assert!(
            top[0] > 150 && top[2] < 100,
            "{name}: top should be red, is {top:?}"
        );
        assert!(
            bottom[2] > 150 && bottom[0] < 100,
            "{name}: bottom should be blue, is {bottom:?}"
        );
    }
}

#[test]
fn markdown_images_become_pictures_with_srcset_sizes_and_dimensions() {
    let site = Site::fixture("basic");
    site.write("media/wide.jpg", jpeg(2000, 1000, None));
    post_with_image(&site, "wide", "wide.jpg");
    site.build();
    let main = site.main_of("public/posts/wide/index.html");
    let start = main.find("<picture>").expect("a picture");
    let picture = &main[start..main.find("</picture>").unwrap() + "</picture>".len()];
    let names: Vec<String> = media_files(&site, "wide-")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let name = |w: u32, ext: &str| {
        names
            .iter()
            .find(|n| n.starts_with(&format!("wide-{w}w-")) && n.ends_with(ext))
            .unwrap()
            .clone()
    };
    let expected = format!(
        "<picture><source type=\"image/webp\" srcset=\"/media/{} 480w, /media/{} 960w, /media/{} 1600w\" sizes=\"(min-width: 46rem) 44rem, 100vw\">\
         <img src=\"/media/{}\" srcset=\"/media/{} 480w, /media/{} 960w, /media/{} 1600w\" sizes=\"(min-width: 46rem) 44rem, 100vw\" \
         width=\"1600\" height=\"800\" alt=\"A wide photo\" loading=\"lazy\" decoding=\"async\"></picture>",
        name(480, ".webp"),
        name(960, ".webp"),
        name(1600, ".webp"),
        name(960, ".jpg"),
        name(480, ".jpg"),
        name(960, ".jpg"),
        name(1600, ".jpg"),
    );
    assert_eq!(picture, expected);
}

#[test]
fn avatars_are_square_and_at_most_480() {
    let site = Site::fixture("basic");
    site.write("media/face.png", png(900, 600));
    site.write(
        "content/authors/ada.md",
        "---\ntitle: Ada Example\navatar: face.png\n---\n\nBio.\n",
    );
    site.build();
    let mut sizes: Vec<(u32, u32)> = media_files(&site, "face-")
        .iter()
        .map(|(_, b)| dimensions(b))
        .collect();
    sizes.sort();
    assert_eq!(
        sizes,
        [
            (96, 96),
            (96, 96),
            (240, 240),
            (240, 240),
            (480, 480),
            (480, 480)
        ]
    );
    let main = site.main_of("public/authors/ada/index.html");
    assert!(
        main.contains(
            "width=\"480\" height=\"480\" alt=\"Ada Example\" class=\"avatar avatar-large\""
        ),
        "{main}"
    );
}

#[test]
fn cache_skips_unchanged_images_and_redoes_only_changed_ones() {
    let site = Site::fixture("basic");
    site.write("media/one.jpg", jpeg(800, 400, None));
    site.write("media/two.jpg", jpeg(800, 400, Some(1)));
    post_with_image(&site, "one", "one.jpg");
    post_with_image(&site, "two", "two.jpg");
    let first = report(&site);
    assert_eq!(
        first["images"]["decoded"], 3,
        "one, two and the fixture's dot.png"
    );

    let second = report(&site);
    assert_eq!(
        second["images"]["decoded"], 0,
        "nothing changed: no decoding"
    );
    assert_eq!(second["images"]["encoded"], 0);
    assert_eq!(second["write"]["written"], 0);

    let before = media_files(&site, "two-");
    site.write("media/one.jpg", jpeg(820, 400, None));
    let third = report(&site);
    assert_eq!(third["images"]["decoded"], 1, "only the changed image");
    assert_eq!(
        media_files(&site, "two-"),
        before,
        "the other image's variants are untouched"
    );

    site.remove("content/posts/one.md");
    std::fs::remove_file(site.path("media/one.jpg")).unwrap();
    report(&site);
    assert!(
        media_files(&site, "one-").is_empty(),
        "variants of a deleted image leave public/"
    );
}

#[test]
fn decompression_bomb_is_refused() {
    // A valid PNG header claiming 50000×50000 pixels, with almost no data.
    let bomb = png_header(50_000, 50_000);
    assert_build_fails(
        |site| {
            site.write("media/bomb.png", &bomb);
            post_with_image(site, "bomb", "bomb.png");
        },
        "content/posts/bomb.md:8:1: error: image `/media/bomb.png` cannot be shown: the image is larger than the limits allow (20000×20000 pixels, 512 MiB of memory; images.max_width, max_height, max_alloc_mib)\n  \
         hint: re-export it as a JPEG, PNG or WebP within the limits in config.toml [images], or remove it from the page\n\
         error: build failed with 1 error(s); the output folder was not changed\n",
    );
}

#[test]
fn pixel_count_limit_is_enforced() {
    let site = Site::fixture("basic");
    site.set_image_config("max_megapixels = 1\n");
    site.write("media/big.jpg", jpeg(1200, 1000, None));
    post_with_image(&site, "big", "big.jpg");
    let run = site.quire(&["build"]);
    run.assert_code(1);
    assert!(
        run.stderr.starts_with("content/posts/big.md:8:1: error: image `/media/big.jpg` cannot be shown: the image is 1200×1000 pixels, over the limit of 1 megapixels (images.max_megapixels)\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn corrupt_image_is_refused_with_its_reason() {
    let mut corrupt = jpeg(64, 64, None);
    corrupt.truncate(30);
    assert_build_fails(
        |site| {
            site.write("media/corrupt.jpg", &corrupt);
            post_with_image(site, "corrupt", "corrupt.jpg");
        },
        "content/posts/corrupt.md:8:1: error: image `/media/corrupt.jpg` cannot be shown: cannot decode the image: Format error decoding Jpeg: I/O errors Not enough bytes, expected 3 but found 0\n  \
         hint: re-export it as a JPEG, PNG or WebP within the limits in config.toml [images], or remove it from the page\n\
         error: build failed with 1 error(s); the output folder was not changed\n",
    );
}

#[test]
fn file_that_is_not_an_image_is_refused() {
    assert_build_fails(
        |site| {
            site.write("media/notes.jpg", "just text, not a JPEG\n");
            post_with_image(site, "notes", "notes.jpg");
        },
        "content/posts/notes.md:8:1: error: image `/media/notes.jpg` cannot be shown: not an image: the content is not JPEG, PNG, WebP or GIF\n  \
         hint: re-export it as a JPEG, PNG or WebP within the limits in config.toml [images], or remove it from the page\n\
         error: build failed with 1 error(s); the output folder was not changed\n",
    );
}

#[test]
fn missing_image_reference_is_located() {
    assert_build_fails(
        |site| post_with_image(site, "missing", "nope.jpg"),
        "content/posts/missing.md:8:1: error: image `/media/nope.jpg` cannot be shown: it does not exist in media/\n  \
         hint: put the image in the media/ folder, or correct the path after /media/\n\
         error: build failed with 1 error(s); the output folder was not changed\n",
    );
}

#[test]
fn colour_profiles_are_converted_to_srgb_and_not_embedded() {
    let site = Site::fixture("basic");
    // A Display P3 image of one saturated green: in sRGB it must come out
    // different from its raw sample values (and the profile must be gone).
    let icc = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let img = RgbImage::from_pixel(64, 32, image::Rgb([40, 200, 60]));
    let mut bytes = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut bytes);
    encoder.set_icc_profile(icc).unwrap();
    encoder
        .write_image(img.as_raw(), 64, 32, image::ExtendedColorType::Rgb8)
        .unwrap();
    site.write("media/p3.png", &bytes);
    post_with_image(&site, "p3", "p3.png");
    site.build();
    let (_, png) = media_files(&site, "p3-")
        .into_iter()
        .find(|(n, _)| n.ends_with(".png"))
        .unwrap();
    assert!(!png.windows(4).any(|w| w == b"iCCP"), "no embedded profile");
    let pixel = *image::load_from_memory(&png)
        .unwrap()
        .to_rgb8()
        .get_pixel(10, 10);
    let mut expected = [0u8; 3];
    moxcms::ColorProfile::new_display_p3()
        .create_transform_8bit(
            moxcms::Layout::Rgb,
            &moxcms::ColorProfile::new_srgb(),
            moxcms::Layout::Rgb,
            Default::default(),
        )
        .unwrap()
        .transform(&[40, 200, 60], &mut expected)
        .unwrap();
    assert_ne!(pixel.0, [40, 200, 60], "converted");
    for (got, want) in pixel.0.iter().zip(expected) {
        assert!(got.abs_diff(want) <= 2, "{pixel:?} vs sRGB {expected:?}");
    }
}

#[test]
fn avif_variants_are_an_option() {
    let site = Site::fixture("basic");
    site.set_image_config("avif = true\nwidths = [64]\n");
    site.write("media/small.jpg", jpeg(96, 64, None));
    post_with_image(&site, "small", "small.jpg");
    site.build();
    let files = media_files(&site, "small-");
    let avif = files
        .iter()
        .find(|(n, _)| n.ends_with(".avif"))
        .expect("an AVIF variant");
    // No AVIF decoder here: read the size from the `ispe` property box.
    let at = avif
        .1
        .windows(4)
        .position(|w| w == b"ispe")
        .expect("ispe box")
        + 8;
    let size = |i: usize| u32::from_be_bytes(avif.1[i..i + 4].try_into().unwrap());
    assert_eq!((size(at), size(at + 4)), (64, 43));
    let main = site.main_of("public/posts/small/index.html");
    let avif_source = main
        .find("<source type=\"image/avif\"")
        .expect("avif source");
    let webp_source = main
        .find("<source type=\"image/webp\"")
        .expect("webp source");
    assert!(avif_source < webp_source, "AVIF offered first: {main}");
}

#[test]
fn file_names_with_spaces_and_commas_make_valid_srcsets() {
    let site = Site::fixture("basic");
    site.write("media/Screen Shot, 1.jpg", jpeg(600, 300, None));
    post_with_image(&site, "shot", "Screen%20Shot,%201.jpg");
    site.build();
    let main = site.main_of("public/posts/shot/index.html");
    assert!(
        main.contains("srcset=\"/media/Screen%20Shot%2C%201-480w-"),
        "{main}"
    );
    assert!(!main.contains("Screen Shot"), "{main}");
    assert_eq!(media_files(&site, "Screen Shot, 1-").len(), 4);
}

#[test]
fn raw_html_images_in_media_reach_their_published_variant() {
    // Imported WordPress bodies and hand-written figures use <img> tags:
    // the original is not published, so the src must name a variant.
    let site = Site::fixture("basic");
    site.write("media/2020/01/photo.jpg", jpeg(1200, 600, None));
    site.write(
        "content/posts/figure.md",
        "---\ntitle: Figure\ndate: 2024-01-10\n---\n\n<figure class=\"wp-block-image\">\n<a href=\"/media/2020/01/photo.jpg\"><img src=\"/media/2020/01/photo.jpg\" alt=\"A photo\" width=\"600\" height=\"300\"></a>\n<figcaption>At dusk</figcaption>\n</figure>\n\nSee <img src='/media/2020/01/photo.jpg' alt='inline'> and <a href=\"/media/missing.jpg\">this</a>.\n",
    );
    site.build();
    let main = site.main_of("public/posts/figure/index.html");
    // Both images (the sanitiser writes every attribute with `"`).
    assert_eq!(
        main.matches("<img src=\"/media/2020/01/photo-1200w-")
            .count(),
        2,
        "{main}"
    );
    assert!(
        main.contains("<a href=\"/media/2020/01/photo-1200w-"),
        "{main}"
    );
    assert!(!main.contains("/media/2020/01/photo.jpg"), "{main}");
    // What is not a known image stays as written.
    assert!(main.contains("href=\"/media/missing.jpg\""), "{main}");
    let published = media_files(&site, "2020/01/photo-1200w-");
    assert!(!published.is_empty(), "the variant is written");
    for (name, bytes) in &published {
        if name.ends_with(".jpg") {
            assert_eq!(dimensions(bytes), (1200, 600));
        }
    }
}

#[test]
fn svg_drawings_in_media_are_published_sanitised_at_their_size() {
    let site = Site::fixture("basic");
    site.write(
        "media/charts/growth.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 640 320\" onload=\"alert(1)\"><script>alert(2)</script><rect width=\"640\" height=\"320\" fill=\"#4a7\"/><image href=\"https://tracker.example/pixel.png\"/></svg>",
    );
    site.write(
        "media/plain.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"48\" height=\"24\"><circle r=\"4\"/></svg>",
    );
    site.write("media/broken.svg", "<svg viewBox=\"0 0 9 9\"><g></svg>");
    site.write(
        "content/posts/chart.md",
        "---\ntitle: Chart\ndate: 2024-05-01\n---\n\n![Growth \"2024\"](/media/charts/growth.svg)\n",
    );
    let run = site.build();
    assert_eq!(
        run.stderr,
        "media/broken.svg: warning: not published: not valid SVG: ill-formed document: expected `</g>`, but `</svg>` was found (line 1)\n  hint: fix the file, or remove it from media/\nmedia/charts/growth.svg: warning: published without 3 part(s) that could run code or load other files (scripts, event handlers, external references)\n  hint: nothing to do if the drawing looks right; remove those parts from the file to silence this\n"
    );
    let main = site.main_of("public/posts/chart/index.html");
    assert!(
        main.contains("<img src=\"/media/charts/growth.svg\" alt=\"Growth “2024”\" width=\"640\" height=\"320\" loading=\"lazy\" decoding=\"async\">"),
        "{main}"
    );
    let published = site.read("public/media/charts/growth.svg");
    assert!(
        published.contains("<rect width=\"640\" height=\"320\" fill=\"#4a7\"/>")
            && !published.contains("alert")
            && !published.contains("onload")
            && !published.contains("tracker.example"),
        "{published}"
    );
    assert_eq!(
        site.read("public/media/plain.svg"),
        site.read("media/plain.svg"),
        "a clean SVG is published byte for byte"
    );
    assert!(!site.exists("public/media/broken.svg"));

    // An edit reaches the output on the next build.
    site.write(
        "media/plain.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"48\" height=\"24\"><circle r=\"5\"/></svg>",
    );
    site.build();
    assert!(site.read("public/media/plain.svg").contains("r=\"5\""));

    // A drawing is no cover: covers need raster variants for feeds and cards.
    crate::support::assert_build_fails(
        |site| {
            site.write(
                "media/plain.svg",
                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 4 4\"/>",
            );
            site.write(
                "content/posts/chart.md",
                "---\ntitle: Chart\ndate: 2024-05-01\ncover: plain.svg\n---\n\nx\n",
            );
        },
        "content/posts/chart.md:4:1: error: field `cover`: `plain.svg` cannot be used: an SVG drawing can be shown in a post, but not as a cover or avatar; use JPEG, PNG, WebP or GIF\n  hint: re-export it as a JPEG, PNG or WebP within the limits in config.toml [images]\nerror: build failed with 1 error(s); the output folder was not changed\n",
    );
}

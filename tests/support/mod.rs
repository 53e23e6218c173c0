//! Test harness: a fixture site copied into a temporary folder, a way to run
//! the real `quire` binary on it, and snapshots of its output folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use image::{ImageEncoder, RgbImage};

pub mod server;

/// The repository root (the example site, and the source of the default theme).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A site in a temporary folder.
pub struct Site {
    dir: tempfile::TempDir,
}

/// The result of running `quire`.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Every file under a folder with its bytes and modification time.
pub type Tree = BTreeMap<String, (Vec<u8>, SystemTime)>;

impl Site {
    /// A copy of `tests/fixtures/<name>` with the repository's default theme.
    pub fn fixture(name: &str) -> Self {
        let site = Self::empty();
        copy_dir(&repo_root().join("tests/fixtures").join(name), site.root());
        if !site.root().join("themes").exists() {
            copy_dir(
                &repo_root().join("themes/default"),
                &site.root().join("themes/default"),
            );
        }
        site
    }

    /// An empty temporary folder.
    pub fn empty() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("quire-test-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Writes (or replaces) a file of the site.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    /// Appends a `[images]` table to config.toml (tables must come after
    /// the top-level keys, so this is an append, not a prepend).
    pub fn set_image_config(&self, lines: &str) -> &Self {
        let config = self.read("config.toml");
        self.write("config.toml", format!("{config}\n[images]\n{lines}"))
    }

    pub fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.path(rel)).unwrap();
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    /// Runs `quire ARGS` in the site folder.
    pub fn quire(&self, args: &[&str]) -> Run {
        run_quire(self.root(), args)
    }

    /// `quire build`, which must succeed.
    pub fn build(&self) -> Run {
        let run = self.quire(&["build"]);
        run.assert_code(0);
        run
    }

    /// The `<main>` element of an output page, where the page's own content is.
    pub fn main_of(&self, rel: &str) -> String {
        let html = self.read(rel);
        let start = html
            .find("<main")
            .unwrap_or_else(|| panic!("no <main> in {rel}"));
        let end = html.find("</main>").expect("no </main>") + "</main>".len();
        html[start..end].to_string()
    }

    /// Every file under `rel` with bytes and mtime.
    pub fn tree(&self, rel: &str) -> Tree {
        tree(&self.path(rel))
    }
}

pub fn run_quire(cwd: &Path, args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_quire"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run quire");
    Run::from(output)
}

/// Runs `quire ARGS` in `cwd` with `input` on stdin.
pub fn run_quire_with_stdin(cwd: &Path, args: &[&str], input: &str) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_quire"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run quire");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Run::from(child.wait_with_output().expect("run quire"))
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

pub fn tree(dir: &Path) -> Tree {
    let mut files = Tree::new();
    if !dir.exists() {
        return files;
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let meta = entry.metadata().unwrap();
            files.insert(
                rel,
                (
                    std::fs::read(entry.path()).unwrap(),
                    meta.modified().unwrap(),
                ),
            );
        }
    }
    files
}

/// Only the paths and bytes of a tree (for comparing two builds).
pub fn contents(tree: &Tree) -> BTreeMap<&str, &[u8]> {
    tree.iter()
        .map(|(k, (bytes, _))| (k.as_str(), bytes.as_slice()))
        .collect()
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Builds the basic fixture, applies `change`, builds again and checks that
/// the build fails with exactly `expected` on stderr and leaves public/ alone.
#[track_caller]
pub fn assert_build_fails(change: impl FnOnce(&Site), expected: &str) {
    let site = Site::fixture("basic");
    site.build();
    let before = site.tree("public");
    change(&site);
    let run = site.quire(&["build"]);
    run.assert_code(1);
    assert_eq!(run.stderr, expected);
    assert_eq!(
        site.tree("public"),
        before,
        "public/ changed after a failed build"
    );
    let leftovers: Vec<_> = std::fs::read_dir(site.root())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("quire-staging"))
        .collect();
    assert!(leftovers.is_empty(), "staging folder left behind");
}

/// A JPEG, left half red and right half blue, with an optional EXIF
/// orientation (and an empty GPS block, to check that metadata is dropped).
pub fn jpeg(width: u32, height: u32, orientation: Option<u16>) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            image::Rgb([220, 20, 20])
        } else {
            image::Rgb([20, 20, 220])
        }
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    let Some(orientation) = orientation else {
        return out;
    };
    // APP1 "Exif": little-endian TIFF with one IFD holding Orientation and a GPS IFD pointer.
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&u32::from(orientation).to_le_bytes());
    tiff.extend_from_slice(&0x8825u16.to_le_bytes()); // GPSInfo
    tiff.extend_from_slice(&4u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&38u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&0u16.to_le_bytes()); // empty GPS IFD
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut with_exif = vec![0xFF, 0xD8, 0xFF, 0xE1];
    with_exif.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    with_exif.extend_from_slice(&app1);
    with_exif.extend_from_slice(&out[2..]);
    with_exif
}

/// A PNG whose header claims `width`×`height`, with almost no data.
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    let mut idat = b"IDAT".to_vec();
    idat.extend_from_slice(&[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    png.extend_from_slice(&8u32.to_be_bytes());
    png.extend_from_slice(&idat);
    png.extend_from_slice(&crc32(&idat).to_be_bytes());
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    png
}

/// CRC-32 (PNG's), for building test chunks.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

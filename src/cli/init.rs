//! `quire init` and `quire new post`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;

use anyhow::Context as _;
use chrono::Utc;

use super::Outcome;
use crate::store::posts::{self, NewPost};

const STARTER_CONFIG: &str = r#"# Site settings. See the quire README for every key.
title = "My quire site"
description = "Notes and essays."
base_url = "https://example.com/"
language = "en"
theme = "default"
posts_per_page = 10
raw_html = "sanitize"

[[menu]]
name = "About"
url = "/about/"
"#;

const STARTER_ABOUT: &str = "---\ntitle: About\n---\n\nThis site is built with [quire](https://github.com/quire-cms/quire). Edit `content/about.md` to say who you are.\n";

const STARTER_AUTHOR: &str = "---\ntitle: Site Author\n---\n\nA short bio. Edit `content/authors/author.md`; the file name is the username.\n";

/// `quire init DIR`.
pub(super) fn init(dir: &Path) -> anyhow::Result<Outcome> {
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read `{}`", dir.display()))?;
        if entries.next().is_some() {
            eprintln!(
                "error: `{}` is not empty; quire init only creates new sites",
                dir.display()
            );
            eprintln!("  hint: choose a new folder name, e.g. `quire init my-site`");
            return Ok(Outcome::SiteErrors);
        }
    }
    let today = Utc::now().fixed_offset();
    let hello = format!(
        "---\ntitle: Hello, world\ndate: {}\nauthor: author\ntags: [welcome]\n---\n\nThis is your first post. Write Markdown here; run `quire build` to make the site.\n\n## Next steps\n\n- Edit `config.toml`\n- Add posts with `quire new post \"Title\"`\n",
        today.format("%Y-%m-%d")
    );
    let mut files: Vec<(String, Vec<u8>)> = crate::store::theme::THEME_FILES
        .iter()
        .map(|(p, b)| ((*p).to_string(), b.to_vec()))
        .collect();
    files.push(("config.toml".into(), STARTER_CONFIG.as_bytes().to_vec()));
    files.push(("content/about.md".into(), STARTER_ABOUT.as_bytes().to_vec()));
    files.push((
        "content/authors/author.md".into(),
        STARTER_AUTHOR.as_bytes().to_vec(),
    ));
    files.push(("content/posts/hello-world.md".into(), hello.into_bytes()));
    files.push((".gitignore".into(), b"/public/\n/.quire/\n".to_vec()));
    for (rel, bytes) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        crate::fsx::create_new_atomic(&path, bytes)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    std::fs::create_dir_all(dir.join("media"))
        .with_context(|| format!("cannot create `{}`", dir.join("media").display()))?;
    println!("created a new quire site in {}", dir.display());
    println!("next: quire build --root {}", dir.display());
    Ok(Outcome::Success)
}

/// `quire new post TITLE`.
pub(super) fn new_post(root: &Path, title: &str, author: Option<&str>) -> anyhow::Result<Outcome> {
    if !root.join(crate::config::CONFIG_FILE).is_file() {
        eprintln!(
            "error: no config.toml in `{}`: this is not a quire site",
            root.display()
        );
        eprintln!("  hint: run the command in the site folder or pass `--root DIR`");
        return Ok(Outcome::SiteErrors);
    }
    if let Some(author) = author
        && !root
            .join("content/authors")
            .join(format!("{author}.md"))
            .is_file()
    {
        eprintln!("error: unknown author `{author}`: content/authors/{author}.md does not exist");
        eprintln!("  hint: create the profile first, or leave out --author");
        return Ok(Outcome::SiteErrors);
    }
    let post = NewPost {
        title,
        author,
        date: Utc::now().fixed_offset(),
        draft: true,
        body: "Write your post here.\n",
    };
    match posts::create(&root.join("content"), &post) {
        Ok(path) => {
            println!("{}", path.display());
            Ok(Outcome::Success)
        }
        Err(err @ posts::StoreError::UnusableTitle(_)) => {
            eprintln!("error: {err}");
            Ok(Outcome::Usage)
        }
        Err(err) => Err(err.into()),
    }
}

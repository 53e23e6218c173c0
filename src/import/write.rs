//! Writes the imported site: quire's default theme, config.toml from the
//! source's settings, content files with YAML front matter, author
//! profiles and media. Every file is created new (never replacing one),
//! in parallel; no fsync per file, since the source can be imported again.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_yaml::{Mapping, Value as Yaml};

use super::ImportError;
use super::model::{Doc, DocKind, Site};
use super::place::{Placed, PlacedDoc, Profile};
use super::report::Report;
use crate::fsx::{Durability, create_new_atomic_with};

/// Front matter fields quire reads itself; an extra field of the same name
/// is written with an `original_` prefix so it cannot change their meaning.
const KNOWN: &[&str] = &[
    "title", "date", "updated", "draft", "tags", "author", "authors", "summary", "cover", "avatar",
    "slug", "aliases", "template",
];

enum Output<'a> {
    Text(String),
    Copy(&'a Path),
}

/// Writes everything into `dest` and returns the report with its counts.
pub(crate) fn write(site: &Site, placed: &Placed, dest: &Path) -> Result<Report, ImportError> {
    let mut report = Report {
        items: site.report.items.clone(),
        links_rewritten: site.report.links_rewritten,
        shortcodes_converted: site.report.shortcodes_converted,
        ..Report::default()
    };
    let mut files: Vec<(String, Output<'_>)> = crate::store::theme::THEME_FILES
        .iter()
        .map(|(path, bytes)| {
            (
                (*path).to_string(),
                Output::Text(String::from_utf8_lossy(bytes).into_owned()),
            )
        })
        .collect();
    files.push(("config.toml".into(), Output::Text(config(site, placed))));
    files.push((
        ".gitignore".into(),
        Output::Text("/public/\n/.quire/\n".into()),
    ));
    for (doc, spot) in site.docs.iter().zip(&placed.docs) {
        if !spot.written {
            continue;
        }
        match doc.kind {
            DocKind::Post => {
                report.posts += 1;
                report.drafts += usize::from(doc.draft);
            }
            DocKind::Page => report.pages += 1,
        }
        report.redirects += spot.aliases.len();
        files.push((spot.file.clone(), Output::Text(document(doc, spot))));
    }
    for (username, profile) in &placed.authors {
        report.authors += 1;
        files.push((
            format!("content/authors/{username}.md"),
            Output::Text(profile_text(profile)),
        ));
    }
    let mut media_taken = HashSet::new();
    for file in &site.media {
        if media_taken.insert(file.to.to_lowercase()) {
            report.media += 1;
            files.push((format!("media/{}", file.to), Output::Copy(&file.from)));
        } else {
            report.review(
                &file.from.display().to_string(),
                None,
                format!(
                    "not copied: media/{} already comes from another file of the same name",
                    file.to
                ),
            );
        }
    }
    let dirs: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|(rel, _)| dest.join(rel).parent().map(Path::to_path_buf))
        .chain([dest.join("media")])
        .collect();
    for dir in &dirs {
        std::fs::create_dir_all(dir).map_err(|source| ImportError::Write {
            path: dir.clone(),
            source,
        })?;
    }
    files.par_iter().try_for_each(|(rel, output)| {
        let path = dest.join(rel);
        let written = match output {
            Output::Text(text) => {
                create_new_atomic_with(&path, text.as_bytes(), Durability::Regenerable)
            }
            Output::Copy(from) => std::fs::read(from)
                .and_then(|bytes| create_new_atomic_with(&path, &bytes, Durability::Regenerable)),
        };
        written.map_err(|source| ImportError::Write { path, source })
    })?;
    report.sort();
    Ok(report)
}

/// config.toml with the source's title, description, base URL, language
/// and Markdown behaviour, and a menu of the top-level pages.
fn config(site: &Site, placed: &Placed) -> String {
    let s = &site.settings;
    let quote = |text: &str| toml::Value::String(text.to_string()).to_string();
    let mut out = format!(
        "# Imported by `quire import`. See the quire README for every key.\n\
         title = {}\ndescription = {}\nbase_url = {}\nlanguage = {}\n\
         theme = \"default\"\nposts_per_page = 10\nraw_html = {}\n\n\
         [markdown]\nsmart_punctuation = {}\n",
        quote(&s.title),
        quote(&s.description),
        quote(&s.base_url),
        quote(&s.language),
        quote(s.raw_html),
        s.smart_punctuation
    );
    let mut menu: Vec<(&str, &str)> = site
        .docs
        .iter()
        .zip(&placed.docs)
        .filter(|(doc, spot)| {
            doc.kind == DocKind::Page && spot.written && spot.url.matches('/').count() == 2
        })
        .map(|(doc, spot)| (doc.title.as_str(), spot.url.as_str()))
        .collect();
    menu.sort();
    for (name, url) in menu.into_iter().take(6) {
        out.push_str(&format!(
            "\n[[menu]]\nname = {}\nurl = {}\n",
            quote(name),
            quote(url)
        ));
    }
    out
}

/// A content file: YAML front matter in a fixed order, then the body.
fn document(doc: &Doc, spot: &PlacedDoc) -> String {
    let mut front = Mapping::new();
    let mut put = |key: &str, value: Yaml| {
        front.insert(Yaml::String(key.to_string()), value);
    };
    put("title", Yaml::String(doc.title.clone()));
    if let Some(date) = doc.date {
        put("date", Yaml::String(date.to_front_matter()));
    }
    if let Some(updated) = doc.updated {
        put("updated", Yaml::String(updated.to_front_matter()));
    }
    if doc.draft {
        put("draft", Yaml::Bool(true));
    }
    let strings =
        |items: &[String]| Yaml::Sequence(items.iter().map(|t| Yaml::String(t.clone())).collect());
    if !doc.tags.is_empty() {
        put("tags", strings(&doc.tags));
    }
    match spot.authors.as_slice() {
        [] => {}
        [one] => put("author", Yaml::String(one.clone())),
        many => put("authors", strings(many)),
    }
    if let Some(summary) = &doc.summary {
        put("summary", Yaml::String(summary.clone()));
    }
    if let Some(cover) = &doc.cover {
        put("cover", Yaml::String(cover.clone()));
    }
    if let Some(slug) = &spot.slug {
        put("slug", Yaml::String(slug.clone()));
    }
    if !spot.aliases.is_empty() {
        let aliases: Vec<String> = spot.aliases.iter().map(|a| format!("/{a}")).collect();
        put("aliases", strings(&aliases));
    }
    for (key, value) in &doc.extra {
        let key = if KNOWN.contains(&key.as_str()) {
            format!("original_{key}")
        } else {
            key.clone()
        };
        if let Ok(value) = serde_yaml::to_value(value) {
            put(&key, value);
        }
    }
    let yaml = serde_yaml::to_string(&front).unwrap_or_default();
    let body = doc.body.trim_start_matches(['\n', '\r']);
    let mut text = format!("---\n{yaml}---\n\n{body}");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn profile_text(profile: &Profile) -> String {
    let mut front = Mapping::new();
    front.insert(
        Yaml::String("title".into()),
        Yaml::String(profile.name.clone()),
    );
    let yaml = serde_yaml::to_string(&front).unwrap_or_default();
    let bio = profile.bio.trim();
    if bio.is_empty() {
        format!("---\n{yaml}---\n")
    } else {
        format!("---\n{yaml}---\n\n{bio}\n")
    }
}

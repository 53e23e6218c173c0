//! The internal link check: every site-relative link and image in a page
//! must point at a file the build produces.

use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rayon::prelude::*;

use crate::build::index::SiteIndex;
use crate::build::page::Page;
use crate::diagnostic::{Diagnostic, Diagnostics, Severity};

/// Each page's link problems from the previous build, by page fingerprint,
/// valid while the set of outputs is the same: a rebuild re-checks only the
/// pages that changed.
#[derive(Debug, Default)]
pub struct LinkCache {
    outputs: u64,
    pages: HashMap<u64, Vec<Diagnostic>>,
}

/// Reports links in `index` whose target is not in `outputs` (output paths
/// such as `posts/a/index.html`), reusing and updating `cache`;
/// `outputs_key` is a hash of `outputs`, which the caller has at hand.
/// `severity` is a warning for `build` and an error for `check`.
pub fn check_links(
    index: &SiteIndex,
    outputs: &BTreeSet<String>,
    (outputs_key, severity): (u64, Severity),
    cache: &mut LinkCache,
) -> Diagnostics {
    let mut hasher = std::hash::DefaultHasher::new();
    (outputs_key, severity).hash(&mut hasher);
    let key = hasher.finish();
    if cache.outputs != key {
        cache.pages.clear();
        cache.outputs = key;
    }
    let pages: Vec<&Arc<Page>> = index
        .posts
        .iter()
        .chain(&index.pages)
        .chain(&index.authors)
        .collect();
    let known = &cache.pages;
    let checked: Vec<(u64, Option<Vec<Diagnostic>>)> = pages
        .par_iter()
        .map(|page| {
            if known.contains_key(&page.fingerprint) {
                return (page.fingerprint, None);
            }
            let mut problems = Diagnostics::new();
            check_page(page, outputs, severity, &mut problems);
            (page.fingerprint, Some(problems.into_iter().collect()))
        })
        .collect();
    let mut diagnostics = Diagnostics::new();
    let mut live = std::collections::HashSet::with_capacity(checked.len());
    for (fingerprint, problems) in checked {
        live.insert(fingerprint);
        if let Some(problems) = problems {
            cache.pages.insert(fingerprint, problems);
        }
        if let Some(problems) = cache.pages.get(&fingerprint) {
            diagnostics.extend(problems.iter().cloned());
        }
    }
    cache
        .pages
        .retain(|fingerprint, _| live.contains(fingerprint));
    diagnostics
}

fn check_page(
    page: &Page,
    outputs: &BTreeSet<String>,
    severity: Severity,
    diagnostics: &mut Diagnostics,
) {
    for link in &page.links {
        let Some(target) = resolve(&page.url_path, &link.url) else {
            continue;
        };
        let found = if target.is_empty() || target.ends_with('/') {
            outputs.contains(&format!("{target}index.html"))
        } else {
            outputs.contains(&target) || outputs.contains(&format!("{target}/index.html"))
        };
        if !found {
            diagnostics.push(
                Diagnostic::error(
                    &page.source,
                    format!("link to `{}`, which is not a page of this site", link.url),
                )
                .at(link.line, 1)
                .hint("correct the link, or create the page it points to")
                .into_severity(severity),
            );
        }
    }
}

/// The output-relative target of `url` written on the page at `page_path`,
/// or `None` for external and fragment-only links.
fn resolve(page_path: &str, url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:")
        || url.starts_with("//")
    {
        return None;
    }
    let path =
        crate::build::parse::markdown::percent_decode(url.split(['#', '?']).next().unwrap_or(""));
    if path.is_empty() {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    let joined;
    let full = if let Some(absolute) = path.strip_prefix('/') {
        absolute
    } else {
        joined = format!("{page_path}{path}");
        &joined
    };
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let mut target = parts.join("/");
    if full.ends_with('/') && !target.is_empty() {
        target.push('/');
    }
    Some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_absolute_relative_and_external_links() {
        assert_eq!(resolve("posts/a/", "/about/#x"), Some("about/".into()));
        assert_eq!(resolve("posts/a/", "../b/"), Some("posts/b/".into()));
        assert_eq!(
            resolve("posts/a/", "/media/x.png"),
            Some("media/x.png".into())
        );
        assert_eq!(resolve("posts/a/", "/"), Some(String::new()));
        assert_eq!(resolve("posts/a/", "https://x.org/"), None);
        assert_eq!(resolve("posts/a/", "#top"), None);
        assert_eq!(
            resolve("posts/a/", "/media/my%20cv.pdf"),
            Some("media/my cv.pdf".into())
        );
    }
}

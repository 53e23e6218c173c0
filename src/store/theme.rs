//! The default theme, built into the binary.

/// The default theme, embedded so `quire init` works from the binary alone.
/// `tests` below checks that this list matches themes/default/ on disk;
/// `quire init` and `quire import` write it into new sites.
pub const THEME_FILES: &[(&str, &[u8])] = &[
    (
        "themes/default/static/css/quire.css",
        include_bytes!("../../themes/default/static/css/quire.css"),
    ),
    (
        "themes/default/static/js/search.js",
        include_bytes!("../../themes/default/static/js/search.js"),
    ),
    (
        "themes/default/templates/404.html",
        include_bytes!("../../themes/default/templates/404.html"),
    ),
    (
        "themes/default/templates/author.html",
        include_bytes!("../../themes/default/templates/author.html"),
    ),
    (
        "themes/default/templates/authors.html",
        include_bytes!("../../themes/default/templates/authors.html"),
    ),
    (
        "themes/default/templates/base.html",
        include_bytes!("../../themes/default/templates/base.html"),
    ),
    (
        "themes/default/templates/index.html",
        include_bytes!("../../themes/default/templates/index.html"),
    ),
    (
        "themes/default/templates/page.html",
        include_bytes!("../../themes/default/templates/page.html"),
    ),
    (
        "themes/default/templates/partials/description.html",
        include_bytes!("../../themes/default/templates/partials/description.html"),
    ),
    (
        "themes/default/templates/partials/pagination.html",
        include_bytes!("../../themes/default/templates/partials/pagination.html"),
    ),
    (
        "themes/default/templates/partials/post-list.html",
        include_bytes!("../../themes/default/templates/partials/post-list.html"),
    ),
    (
        "themes/default/templates/partials/post-meta.html",
        include_bytes!("../../themes/default/templates/partials/post-meta.html"),
    ),
    (
        "themes/default/templates/partials/post-summary.html",
        include_bytes!("../../themes/default/templates/partials/post-summary.html"),
    ),
    (
        "themes/default/templates/partials/tags.html",
        include_bytes!("../../themes/default/templates/partials/tags.html"),
    ),
    (
        "themes/default/templates/partials/toc.html",
        include_bytes!("../../themes/default/templates/partials/toc.html"),
    ),
    (
        "themes/default/templates/post.html",
        include_bytes!("../../themes/default/templates/post.html"),
    ),
    (
        "themes/default/templates/search.html",
        include_bytes!("../../themes/default/templates/search.html"),
    ),
    (
        "themes/default/templates/tag.html",
        include_bytes!("../../themes/default/templates/tag.html"),
    ),
    (
        "themes/default/templates/tags.html",
        include_bytes!("../../themes/default/templates/tags.html"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn embedded_theme_matches_the_theme_folder() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut on_disk: Vec<String> = walkdir::WalkDir::new(root.join("themes/default"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| crate::build::load::slash_path(e.path().strip_prefix(root).unwrap()))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = THEME_FILES.iter().map(|(p, _)| (*p).to_string()).collect();
        assert_eq!(
            embedded, on_disk,
            "update THEME_FILES in src/store/theme.rs"
        );
    }
}

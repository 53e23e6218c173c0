use std::collections::BTreeMap;

use crate::support::Site;

/// Term → (document title, weight).
type Terms = BTreeMap<String, Vec<(String, u32)>>;

/// The index under `out`, decoded independently of the build's code, and
/// the document titles.
fn read_index(site: &Site, out: &str) -> (Terms, Vec<String>) {
    let meta: serde_json::Value =
        serde_json::from_str(&site.read(&format!("{out}/search/meta.json"))).unwrap();
    assert_eq!(meta["version"], 1);
    assert_eq!(meta["prefix"], 3);
    let shards = meta["shards"].as_u64().unwrap() as usize;
    let chunk = meta["chunk"].as_u64().unwrap() as usize;
    let count = meta["docs"].as_u64().unwrap() as usize;
    let mut titles = Vec::new();
    for n in 0..count.div_ceil(chunk) {
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&site.read(&format!("{out}/search/docs-{n}.json"))).unwrap();
        for row in rows {
            titles.push(row[1].as_str().unwrap().to_string());
        }
    }
    assert_eq!(titles.len(), count);
    let mut terms = BTreeMap::new();
    for shard in 0..shards {
        let text = site.read(&format!("{out}/search/terms-{shard}.txt"));
        let mut previous = String::new();
        for line in text.lines() {
            let (term, postings) = line.split_once('\t').unwrap();
            assert!(term > previous.as_str(), "terms sorted in shard {shard}");
            previous = term.to_string();
            assert_eq!(
                quire::build::search::shard_of(term, shards),
                shard,
                "{term}"
            );
            let mut doc = 0usize;
            let mut found = Vec::new();
            for entry in postings.split(',') {
                let (delta, weight) = entry.split_once(':').unwrap_or((entry, "1"));
                doc += usize::from_str_radix(delta, 36).unwrap();
                let weight = u32::from_str_radix(weight, 36).unwrap();
                found.push((titles[doc].clone(), weight));
            }
            terms.insert(term.to_string(), found);
        }
    }
    (terms, titles)
}

#[test]
fn published_posts_and_pages_are_indexed_and_drafts_never() {
    let site = Site::fixture("basic");
    for (args, out) in [
        (&["build"][..], "public"),
        (&["build", "--drafts", "--out", "preview"][..], "preview"),
    ] {
        site.quire(args).assert_code(0);
        let (terms, titles) = read_index(&site, out);
        assert!(titles.contains(&"Second post".to_string()), "{titles:?}");
        assert!(
            titles.contains(&"About".to_string()) || titles.len() > 3,
            "{titles:?}"
        );
        for hidden in ["Draft post", "Future post"] {
            assert!(
                !titles.contains(&hidden.to_string()),
                "{out}: {hidden} in {titles:?}"
            );
        }
        // Words only the draft ("Not yet.") and the future post ("Later.") have.
        assert!(!terms.contains_key("yet"), "{out}");
        assert!(!terms.contains_key("later"), "{out}");
        // A body word, and a title word weighted above a body one.
        assert!(
            terms["toml"].iter().any(|(t, _)| t == "Third post"),
            "{:?}",
            terms["toml"]
        );
        let post = &terms["post"];
        for (title, weight) in post {
            // "post" is in every post's title; About has it in its body.
            assert_eq!(*weight >= 8, title.contains("post"), "{post:?}");
        }
    }
}

#[test]
fn the_search_page_and_box_fall_back_to_a_web_search_of_the_site() {
    let site = Site::fixture("basic");
    site.quire(&["build"]).assert_code(0);
    let page = site.read("public/search/index.html");
    assert!(page.contains("data-index=\"/search/meta.json\""), "{page}");
    assert!(
        page.contains("action=\"https://duckduckgo.com/\""),
        "{page}"
    );
    assert!(
        page.contains("name=\"sites\" value=\"example.org\""),
        "{page}"
    );
    assert!(
        page.contains("<meta name=\"robots\" content=\"noindex\">"),
        "{page}"
    );
    let home = site.read("public/index.html");
    assert!(home.contains("class=\"site-search\""), "{home}");
    assert!(home.contains("data-search-page=\"/search/\""), "{home}");
    assert!(home.contains("/js/search.js"), "{home}");
    assert!(!site.read("public/sitemap.xml").contains("/search/"));
}

#[test]
fn search_can_be_turned_off_and_the_fallback_is_checked() {
    let site = Site::fixture("basic");
    let config = site.read("config.toml");
    site.write(
        "config.toml",
        format!("{config}\n[search]\nenabled = false\n"),
    );
    site.quire(&["build"]).assert_code(0);
    assert!(!site.path("public/search").exists());
    assert!(!site.read("public/index.html").contains("site-search"));

    site.write(
        "config.toml",
        format!("{config}\n[search]\nfallback_url = \"javascript:alert(1)\"\n"),
    );
    let run = site.quire(&["build"]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("`search.fallback_url`: `javascript:alert(1)` is not a web address"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("config.toml:"), "{}", run.stderr);
}

#[test]
fn a_page_of_the_site_at_search_takes_the_place_of_the_themes() {
    let site = Site::fixture("basic");
    site.write(
        "content/search.md",
        "---\ntitle: Find things\nslug: search\n---\n\nOur own search page.\n",
    );
    site.quire(&["build"]).assert_code(0);
    let page = site.read("public/search/index.html");
    assert!(page.contains("Our own search page."), "{page}");
    assert!(site.path("public/search/meta.json").exists());
}

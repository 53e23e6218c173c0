//! The WXR file (WordPress eXtended RSS) read into plain records: the
//! channel's settings and authors, and one [`Item`] per post, page,
//! attachment or other entry, with the line where it starts.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// The `<channel>` fields quire uses.
#[derive(Debug, Default)]
pub(super) struct Channel {
    pub title: String,
    pub link: String,
    pub description: String,
    pub language: String,
    /// `wp:base_blog_url`: where posts live (may differ from the site URL).
    pub base_blog_url: String,
    pub authors: Vec<Author>,
}

/// A `<wp:author>`.
#[derive(Debug, Default, Clone)]
pub(super) struct Author {
    pub login: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
}

/// A term attached to an item: `<category domain="post_tag" nicename="x">`.
#[derive(Debug, Default, Clone)]
pub(super) struct Term {
    /// `category`, `post_tag`, `post_format` or a custom taxonomy.
    pub domain: String,
    pub nicename: String,
    pub name: String,
}

/// One `<item>`, its fields as the export wrote them.
#[derive(Debug, Default, Clone)]
pub(super) struct Item {
    /// 1-based line of `<item>` in the export.
    pub line: usize,
    /// 1-based line where `<content:encoded>` starts.
    pub content_line: usize,
    pub title: String,
    pub link: String,
    pub pub_date: String,
    pub creator: String,
    pub content: String,
    pub excerpt: String,
    pub id: u64,
    pub date: String,
    pub date_gmt: String,
    pub modified: String,
    pub modified_gmt: String,
    pub name: String,
    pub status: String,
    pub parent: u64,
    pub post_type: String,
    pub password: String,
    pub sticky: bool,
    pub attachment_url: String,
    pub terms: Vec<Term>,
    /// `wp:postmeta` key/value pairs.
    pub meta: Vec<(String, String)>,
    /// How many `wp:comment` entries it has.
    pub comments: usize,
}

impl Item {
    /// The first `wp:postmeta` value for `key`.
    pub(super) fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The whole export.
#[derive(Debug, Default)]
pub(super) struct Export {
    pub channel: Channel,
    pub items: Vec<Item>,
}

/// Why the file is not a readable export: the message and its 1-based line.
#[derive(Debug)]
pub(super) struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Counts lines as the reader moves forward, so that each position costs
/// only the bytes since the last one.
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, pos: u64) -> usize {
        let pos = usize::try_from(pos)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        if pos >= self.at {
            self.line += self.text[self.at..pos]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.at = pos;
        }
        self.line
    }
}

/// The records being filled while the reader walks the document.
#[derive(Default)]
struct Parser {
    export: Export,
    /// Element names from the root down.
    stack: Vec<String>,
    /// The text of the innermost element so far.
    buf: String,
    item: Option<Item>,
    author: Option<Author>,
    term: Option<Term>,
    meta_key: String,
    saw_rss: bool,
}

/// Parses a WXR document.
pub(super) fn parse(text: &str) -> Result<Export, ParseError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut lines = Lines {
        text: text.as_bytes(),
        at: 0,
        line: 1,
    };
    let mut parser = Parser::default();
    loop {
        let before = reader.buffer_position();
        let event = reader.read_event().map_err(|err| ParseError {
            line: lines.at(reader.error_position()),
            message: format!("not valid XML: {err}"),
        })?;
        match event {
            Event::Start(start) => {
                let name = parser.open(&start, lines.at(before));
                if name == "content:encoded"
                    && let Some(item) = parser.item.as_mut()
                {
                    item.content_line = lines.at(reader.buffer_position());
                }
            }
            Event::Empty(start) => {
                parser.open(&start, lines.at(before));
                parser.close();
            }
            Event::Text(content) => parser.buf.push_str(&content.xml10_content()),
            Event::CData(content) => parser.buf.push_str(&content.xml10_content()),
            Event::GeneralRef(reference) => {
                let name: &str = &reference;
                match reference.resolve_char_ref() {
                    Ok(Some(c)) => parser.buf.push(c),
                    _ => match quick_xml::escape::resolve_xml_entity(name) {
                        Some(text) => parser.buf.push_str(text),
                        None => {
                            parser.buf.push('&');
                            parser.buf.push_str(name);
                            parser.buf.push(';');
                        }
                    },
                }
            }
            Event::End(_) => parser.close(),
            Event::Eof => break,
            _ => {}
        }
    }
    if !parser.saw_rss {
        return Err(ParseError {
            line: 1,
            message: "not a WordPress export: it has no <rss> root element".into(),
        });
    }
    Ok(parser.export)
}

impl Parser {
    /// An element starts at `line`: begin the record it opens. Returns its
    /// name.
    fn open(&mut self, start: &BytesStart<'_>, line: usize) -> String {
        let name = start.name().as_ref().to_string();
        let parent = self.stack.last().map_or("", String::as_str);
        self.saw_rss |= self.stack.is_empty() && name == "rss";
        match (parent, name.as_str()) {
            ("channel", "item") => {
                self.item = Some(Item {
                    line,
                    ..Item::default()
                });
            }
            ("channel", "wp:author") => self.author = Some(Author::default()),
            ("item", "category") => {
                let attr = |key: &str| {
                    start
                        .try_get_attribute(key)
                        .ok()
                        .flatten()
                        .and_then(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .ok()
                                .map(|v| v.into_owned())
                        })
                        .unwrap_or_default()
                };
                self.term = Some(Term {
                    domain: attr("domain"),
                    nicename: attr("nicename"),
                    name: String::new(),
                });
            }
            ("item", "wp:comment") => {
                if let Some(item) = self.item.as_mut() {
                    item.comments += 1;
                }
            }
            _ => {}
        }
        self.stack.push(name.clone());
        self.buf.clear();
        name
    }

    /// An element ends: its text goes to the field it names.
    fn close(&mut self) {
        let Some(name) = self.stack.pop() else {
            return;
        };
        let parent = self.stack.last().map_or("", String::as_str);
        let text = std::mem::take(&mut self.buf);
        match (parent, name.as_str()) {
            ("channel", "item") => self.export.items.extend(self.item.take()),
            ("channel", "wp:author") => self.export.channel.authors.extend(self.author.take()),
            ("channel", field) => {
                let channel = &mut self.export.channel;
                let slot = match field {
                    "title" => &mut channel.title,
                    "link" => &mut channel.link,
                    "description" => &mut channel.description,
                    "language" => &mut channel.language,
                    "wp:base_blog_url" => &mut channel.base_blog_url,
                    _ => return,
                };
                *slot = text.trim().to_string();
            }
            ("wp:author", field) => {
                let Some(author) = self.author.as_mut() else {
                    return;
                };
                let slot = match field {
                    "wp:author_login" => &mut author.login,
                    "wp:author_display_name" => &mut author.display_name,
                    "wp:author_first_name" => &mut author.first_name,
                    "wp:author_last_name" => &mut author.last_name,
                    _ => return,
                };
                *slot = text.trim().to_string();
            }
            ("wp:postmeta", "wp:meta_key") => self.meta_key = text.trim().to_string(),
            ("wp:postmeta", "wp:meta_value") => {
                if let Some(item) = self.item.as_mut() {
                    item.meta.push((std::mem::take(&mut self.meta_key), text));
                }
            }
            ("item", "category") => {
                if let (Some(item), Some(mut term)) = (self.item.as_mut(), self.term.take()) {
                    term.name = text.trim().to_string();
                    item.terms.push(term);
                }
            }
            ("item", field) => {
                if let Some(item) = self.item.as_mut() {
                    item_field(item, field, text);
                }
            }
            _ => {}
        }
    }
}

fn item_field(item: &mut Item, field: &str, text: String) {
    let number = |text: &str| text.trim().parse::<u64>().unwrap_or(0);
    match field {
        "title" => item.title = text.trim().to_string(),
        "link" => item.link = text.trim().to_string(),
        "pubDate" => item.pub_date = text.trim().to_string(),
        "dc:creator" => item.creator = text.trim().to_string(),
        "content:encoded" => item.content = text,
        "excerpt:encoded" => item.excerpt = text,
        "wp:post_id" => item.id = number(&text),
        "wp:post_date" => item.date = text.trim().to_string(),
        "wp:post_date_gmt" => item.date_gmt = text.trim().to_string(),
        "wp:post_modified" => item.modified = text.trim().to_string(),
        "wp:post_modified_gmt" => item.modified_gmt = text.trim().to_string(),
        "wp:post_name" => item.name = text.trim().to_string(),
        "wp:status" => item.status = text.trim().to_string(),
        "wp:post_parent" => item.parent = number(&text),
        "wp:post_type" => item.post_type = text.trim().to_string(),
        "wp:post_password" => item.password = text,
        "wp:is_sticky" => item.sticky = text.trim() == "1",
        "wp:attachment_url" => item.attachment_url = text.trim().to_string(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Tom &amp; Jerry&#8217;s</title>
  <link>https://example.com</link>
  <wp:base_blog_url>https://example.com</wp:base_blog_url>
  <wp:author><wp:author_login><![CDATA[ada]]></wp:author_login><wp:author_display_name><![CDATA[Ada L.]]></wp:author_display_name></wp:author>
  <item>
    <title>Hello</title>
    <dc:creator><![CDATA[ada]]></dc:creator>
    <content:encoded><![CDATA[<p>One & two</p>
<p>Three</p>]]></content:encoded>
    <wp:post_id>12</wp:post_id>
    <wp:post_type><![CDATA[post]]></wp:post_type>
    <category domain="post_tag" nicename="c-2"><![CDATA[C++]]></category>
    <wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value><![CDATA[5]]></wp:meta_value></wp:postmeta>
    <wp:comment><wp:comment_content>Nice</wp:comment_content></wp:comment>
    <wp:is_sticky>1</wp:is_sticky>
    <wp:post_password/>
  </item>
</channel>
</rss>"#;

    #[test]
    fn reads_channel_authors_items_terms_and_meta() {
        let export = parse(EXPORT).unwrap();
        assert_eq!(export.channel.title, "Tom & Jerry\u{2019}s");
        assert_eq!(export.channel.authors[0].display_name, "Ada L.");
        let item = &export.items[0];
        assert_eq!((item.id, item.line, item.content_line), (12, 10, 13));
        assert_eq!(item.content, "<p>One & two</p>\n<p>Three</p>");
        assert_eq!(item.terms[0].nicename, "c-2");
        assert_eq!(item.terms[0].name, "C++");
        assert_eq!(item.meta("_thumbnail_id"), Some("5"));
        assert_eq!(item.comments, 1);
        assert!(item.sticky);
        assert!(item.password.is_empty());
    }

    #[test]
    fn broken_xml_and_other_feeds_are_refused_with_a_line() {
        let err = parse("<rss><channel>\n<item><title>x</item>").unwrap_err();
        assert_eq!(err.line, 2, "{}", err.message);
        let err = parse("<feed></feed>").unwrap_err();
        assert!(err.message.contains("<rss>"), "{}", err.message);
    }
}

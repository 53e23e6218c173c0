//! SVG files placed by hand in media/ (charts, diagrams): published after a
//! sanitiser pass, because a visitor may open `/media/chart.svg` directly,
//! where its scripts would run with the site's origin.
//!
//! The pass keeps the drawing and removes what can act or reach out:
//! `<script>`, `<foreignObject>` (HTML inside SVG) and embedding elements,
//! `on*` event handlers, animations that target links or handlers, the
//! DOCTYPE (custom entities), processing instructions, and every reference
//! that is not inside the file (`href` other than `#id` or an embedded
//! raster image; `url(…)` other than `url(#id)`; CSS `@import`). Links on
//! `<a>` elements may point to http(s) and mailto, as in Markdown.

use std::borrow::Cow;

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesCData, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

/// A sanitised SVG with the size it is shown at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanSvg {
    /// The file to publish.
    pub bytes: Vec<u8>,
    /// Width in CSS pixels: the root's `width` when absolute, else the viewBox's.
    pub width: u32,
    /// Height, found the same way.
    pub height: u32,
    /// Elements and attributes removed, for a warning.
    pub removed: usize,
}

/// Elements removed with everything inside them.
const DROPPED: &[&str] = &[
    "script",
    "foreignObject",
    "iframe",
    "embed",
    "object",
    "handler",
    "listener",
];

/// Sanitises `text` (the content of an `.svg` file). An error says why it is
/// not a usable SVG (not XML, no `<svg>` root, no size).
pub fn sanitise(text: &str) -> Result<CleanSvg, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut pass = Pass {
        writer: Writer::new(Vec::with_capacity(text.len())),
        open: 0,
        skipping: 0,
        size: None,
        removed: 0,
        in_style: false,
    };
    loop {
        let event = reader.read_event().map_err(|err| {
            let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
            let line = 1 + text.as_bytes()[..at.min(text.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            format!("not valid SVG: {err} (line {line})")
        })?;
        if matches!(event, Event::Eof) {
            break;
        }
        pass.event(event)?;
    }
    if pass.open > 0 || pass.skipping > 0 {
        return Err("not valid SVG: the file ends inside an element".into());
    }
    let (width, height) = pass
        .size
        .ok_or("not an SVG image: it has no `<svg>` element")?;
    Ok(CleanSvg {
        bytes: pass.writer.into_inner(),
        width,
        height,
        removed: pass.removed,
    })
}

/// The state of one sanitiser pass over a file's events.
struct Pass {
    writer: Writer<Vec<u8>>,
    /// Elements open in the output.
    open: usize,
    /// Elements open inside a removed one (nothing is written while > 0).
    skipping: usize,
    /// The root's size, once seen.
    size: Option<(u32, u32)>,
    removed: usize,
    /// Inside a `<style>` element.
    in_style: bool,
}

impl Pass {
    fn event(&mut self, event: Event<'_>) -> Result<(), String> {
        if self.skipping > 0 {
            match event {
                Event::Start(_) => self.skipping += 1,
                Event::End(_) => self.skipping -= 1,
                _ => {}
            }
            return Ok(());
        }
        let kept = match event {
            Event::Start(start) => self.element(&start, false)?.map(Event::Start),
            Event::Empty(start) => self.element(&start, true)?.map(Event::Empty),
            Event::End(end) => {
                self.open = self.open.saturating_sub(1);
                self.in_style = false;
                Some(Event::End(end))
            }
            Event::Text(content) if self.in_style => {
                let css = content.to_string();
                let (clean, changed) = clean_css(&css);
                self.removed += usize::from(changed);
                Some(Event::Text(BytesText::from_escaped(clean.into_owned())))
            }
            Event::CData(content) if self.in_style => {
                let css = content.to_string();
                let (clean, changed) = clean_css(&css);
                self.removed += usize::from(changed);
                Some(Event::CData(BytesCData::new(clean.replace("]]>", "] ]>"))))
            }
            Event::GeneralRef(reference) => {
                // Once the DOCTYPE is gone only the predefined entities and
                // character references mean anything; in CSS a character
                // reference could spell `url(` past the check.
                let name: &str = &reference;
                let predefined = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos");
                if predefined || (name.starts_with('#') && !self.in_style) {
                    Some(Event::GeneralRef(reference))
                } else {
                    self.removed += 1;
                    None
                }
            }
            Event::DocType(_) | Event::PI(_) => {
                self.removed += 1;
                None
            }
            Event::Eof => None,
            other => Some(other),
        };
        if let Some(event) = kept {
            self.writer
                .write_event(event)
                .map_err(|err| format!("cannot write the SVG: {err}"))?;
        }
        Ok(())
    }

    /// The cleaned element to write, or `None` when it goes with its content.
    fn element(
        &mut self,
        start: &BytesStart<'_>,
        empty: bool,
    ) -> Result<Option<BytesStart<'static>>, String> {
        let name = start.local_name();
        if self.open == 0 && name.as_ref() != "svg" {
            return Err("not an SVG image: the root element is not `<svg>`".into());
        }
        if is_dropped(start) {
            self.removed += 1;
            self.skipping = usize::from(!empty);
            return Ok(None);
        }
        let clean = clean_element(start, &mut self.removed)?;
        if self.open == 0 && self.size.is_none() {
            self.size = Some(root_size(&clean)?);
        }
        if !empty {
            self.open += 1;
            self.in_style = name.as_ref() == "style";
        }
        Ok(Some(clean))
    }
}

fn is_dropped(start: &BytesStart<'_>) -> bool {
    let name = start.local_name();
    if DROPPED
        .iter()
        .any(|d| d.eq_ignore_ascii_case(name.as_ref()))
    {
        return true;
    }
    // `<set attributeName="href" to="javascript:…">` and its kin.
    let animates = matches!(
        name.as_ref(),
        "set" | "animate" | "animateTransform" | "animateMotion"
    );
    animates
        && start.attributes().flatten().any(|attr| {
            attr.key.local_name().as_ref() == "attributeName" && {
                let target = value_of(&attr).to_ascii_lowercase();
                target.ends_with("href") || target.starts_with("on")
            }
        })
}

/// The element with its dangerous attributes removed.
fn clean_element(
    start: &BytesStart<'_>,
    removed: &mut usize,
) -> Result<BytesStart<'static>, String> {
    let name = start.name().as_ref().to_string();
    let is_link = start.local_name().as_ref() == "a";
    let mut clean = BytesStart::new(name);
    for attr in start.attributes() {
        let attr = attr.map_err(|err| format!("not valid SVG: {err}"))?;
        let key = attr.key.local_name();
        let key = key.as_ref();
        let value = value_of(&attr);
        let keep = if key.len() > 2 && key.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("on")) {
            false
        } else if key == "href" {
            internal_reference(&value) || (is_link && safe_link(&value))
        } else if key == "base" && attr.key.prefix().is_some() {
            false // xml:base would move every relative reference
        } else {
            true
        };
        if !keep {
            *removed += 1;
            continue;
        }
        let (css, changed) = clean_css(&value);
        if changed {
            *removed += 1;
            let key = attr.key.as_ref().to_string();
            clean.push_attribute((key.as_str(), css.as_ref()));
        } else {
            clean.push_attribute(attr.clone());
        }
    }
    Ok(clean.into_owned())
}

fn value_of<'a>(attr: &'a Attribute<'a>) -> Cow<'a, str> {
    attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .unwrap_or(Cow::Borrowed(""))
}

/// A reference that stays inside the file: `#id`, or an embedded raster image.
fn internal_reference(value: &str) -> bool {
    let value = value.trim();
    if value.starts_with('#') {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    [
        "data:image/png",
        "data:image/jpeg",
        "data:image/gif",
        "data:image/webp",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// A link a reader may follow: http(s), mailto, or relative (no scheme).
fn safe_link(value: &str) -> bool {
    let lower = value.trim().to_ascii_lowercase();
    let scheme_end = lower.find(':');
    let relative = scheme_end.is_none_or(|colon| lower[..colon].contains(['/', '?', '#']));
    relative
        || ["https://", "http://", "mailto:"]
            .iter()
            .any(|p| lower.starts_with(p))
}

/// CSS (a `<style>` element or an attribute value) with every `url(…)` that
/// is not `url(#id)` replaced by `none` and every `@import` removed; true
/// when something changed.
fn clean_css(css: &str) -> (Cow<'_, str>, bool) {
    let lower = css.to_ascii_lowercase();
    if !lower.contains("url(") && !lower.contains("@import") && !lower.contains("\\") {
        return (Cow::Borrowed(css), false);
    }
    if lower.contains('\\') && (lower.contains("url") || lower.contains("import")) {
        // CSS escapes can spell `url` or `@import` in ways no simple scan
        // follows: drop the whole declaration block rather than guess.
        return (Cow::Borrowed(""), true);
    }
    let mut out = String::with_capacity(css.len());
    let mut changed = false;
    let mut rest = css;
    while let Some(at) = rest.to_ascii_lowercase().find("url(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 4..];
        let end = after.find(')').map_or(after.len(), |e| e + 1);
        let target = after[..end]
            .trim_end_matches(')')
            .trim()
            .trim_matches(['"', '\'']);
        if target.starts_with('#') {
            out.push_str(&rest[at..at + 4 + end]);
        } else {
            out.push_str("none");
            changed = true;
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    while let Some(at) = out.to_ascii_lowercase().find("@import") {
        let end = out[at..].find(';').map_or(out.len(), |e| at + e + 1);
        out.replace_range(at..end, "");
        changed = true;
    }
    (Cow::Owned(out), changed)
}

/// The root's size in CSS pixels: `width`/`height` when they are plain
/// numbers or pixels, else the viewBox's; an error when neither says.
fn root_size(root: &BytesStart<'_>) -> Result<(u32, u32), String> {
    let mut width = None;
    let mut height = None;
    let mut view_box = None;
    for attr in root.attributes().flatten() {
        let value = value_of(&attr).into_owned();
        match attr.key.local_name().as_ref() {
            "width" => width = pixels(&value),
            "height" => height = pixels(&value),
            "viewBox" => view_box = Some(value),
            _ => {}
        }
    }
    let boxed = view_box.as_deref().and_then(|text| {
        let numbers: Vec<f64> = text
            .split([' ', ',', '\t', '\n', '\r'])
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        match numbers[..] {
            [_, _, w, h] if w > 0.0 && h > 0.0 => Some((w, h)),
            _ => None,
        }
    });
    let (w, h) = match (width, height, boxed) {
        (Some(w), Some(h), _) => (w, h),
        (Some(w), None, Some((bw, bh))) => (w, w * bh / bw),
        (None, Some(h), Some((bw, bh))) => (h * bw / bh, h),
        (_, _, Some(size)) => size,
        _ => {
            return Err(
                "the SVG has no size: add a `viewBox` (such as `viewBox=\"0 0 640 480\"`) to its `<svg>` element"
                    .into(),
            );
        }
    };
    let round = |v: f64| v.round().clamp(1.0, 100_000.0) as u32;
    Ok((round(w), round(h)))
}

/// A length in CSS pixels, when it is absolute (`640`, `640px`).
fn pixels(text: &str) -> Option<f64> {
    let number = text.trim().strip_suffix("px").unwrap_or(text.trim());
    number
        .parse::<f64>()
        .ok()
        .filter(|v| *v > 0.0 && v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(text: &str) -> (String, CleanSvg) {
        let svg = sanitise(text).unwrap();
        (String::from_utf8(svg.bytes.clone()).unwrap(), svg)
    }

    #[test]
    fn a_plain_chart_is_kept_as_it_is() {
        let text = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 640 480\"><defs><linearGradient id=\"g\"/></defs><rect width=\"10\" height=\"5\" fill=\"url(#g)\"/><text x=\"1\">a &lt; b &amp; c</text><use href=\"#g\"/></svg>";
        let (out, svg) = clean(text);
        assert_eq!(out, text);
        assert_eq!((svg.width, svg.height, svg.removed), (640, 480, 0));
    }

    #[test]
    fn scripts_handlers_and_external_references_are_removed() {
        let text = r#"<!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200px" height="100" onload="alert(1)"><script>alert(2)</script><SCRIPT/><foreignObject><div><p>html</p></div></foreignObject><image xlink:href="https://evil.example/x.png"/><image href="data:image/png;base64,AAAA"/><a href="javascript:alert(3)"><text>j</text></a><a href="https://example.org/">ok</a><set attributeName="href" to="javascript:x"/><rect style="fill: url(https://evil.example/p); stroke: url(#g)" onclick="x()"/><style>@import "https://evil.example/a.css"; rect { fill: url('http://e.example/f') }</style><text>&x;</text></svg>"#;
        let (out, svg) = clean(text);
        for gone in [
            "DOCTYPE",
            "ENTITY",
            "onload",
            "alert",
            "<script",
            "<SCRIPT",
            "foreignObject",
            "<p>",
            "evil.example",
            "javascript",
            "<set",
            "onclick",
            "@import",
            "e.example",
            "&x;",
        ] {
            assert!(!out.contains(gone), "{gone} left in {out}");
        }
        for kept in [
            "data:image/png;base64,AAAA",
            "<a href=\"https://example.org/\">ok</a>",
            "url(#g)",
            "<text>j</text>",
        ] {
            assert!(out.contains(kept), "{kept} lost from {out}");
        }
        assert_eq!((svg.width, svg.height), (200, 100));
        assert!(svg.removed >= 12, "{}", svg.removed);
        // What is left is still an SVG the sanitiser accepts unchanged.
        let again = sanitise(&out).unwrap();
        assert_eq!(again.removed, 0);
    }

    #[test]
    fn the_size_comes_from_width_height_or_the_view_box() {
        let size = |attrs: &str| {
            sanitise(&format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" {attrs}/>"
            ))
            .map(|s| (s.width, s.height))
        };
        assert_eq!(size("viewBox=\"0,0,320.4,99.6\""), Ok((320, 100)));
        assert_eq!(
            size("width=\"100%\" height=\"50%\" viewBox=\"0 0 64 48\""),
            Ok((64, 48))
        );
        assert_eq!(size("width=\"128\" viewBox=\"0 0 64 48\""), Ok((128, 96)));
        assert_eq!(size("width=\"10\" height=\"20\""), Ok((10, 20)));
        assert!(
            size("width=\"10em\"")
                .unwrap_err()
                .contains("add a `viewBox`")
        );
        assert!(size("viewBox=\"0 0 0 10\"").is_err());
    }

    #[test]
    fn what_is_not_an_svg_is_refused() {
        assert!(
            sanitise("<html><script/></html>")
                .unwrap_err()
                .contains("root element")
        );
        assert!(
            sanitise("<svg viewBox=\"0 0 1 1\"><g></svg>")
                .unwrap_err()
                .contains("not valid SVG")
        );
        assert!(sanitise("plain text").is_err());
    }
}

//! Build-time syntax highlighting into `<span class="hl-…">` tokens.
//!
//! The grammars are the TextMate/Sublime ones that editors use, through
//! syntect with the syntax collection of `two-face` (bat's: about 220
//! languages). The scope stack a grammar produces is folded into a small,
//! fixed set of classes (`hl-kw`, `hl-str`, …, the contract in
//! `docs/templates.md`), so themes style code with a dozen CSS rules and the
//! HTML stays a fraction of the size of one span per scope. Adjacent tokens
//! of the same class share one span.
//!
//! Highlighting never fails a build: an unknown language, a grammar error or
//! a block too large to colour in bounded time is written escaped, without
//! spans.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;

use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet};

use super::highlight_memo;

/// The grammars, loaded once (a few milliseconds; each grammar's regexes
/// compile on first use, shared between threads).
static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(two_face::syntax::extra_newlines);

/// Blocks larger than this are escaped without colour: grammar engines slow
/// down badly on huge inputs (minified code, logs), and nobody reads a
/// megabyte of highlighted code on a blog.
const MAX_BLOCK_BYTES: usize = 256 * 1024;
/// Lines longer than this make the whole block plain, for the same reason.
const MAX_LINE_BYTES: usize = 8 * 1024;

/// Names blogs use that the grammars do not list themselves.
const ALIASES: &[(&str, &str)] = &[
    ("csharp", "cs"),
    ("c#", "cs"),
    ("fsharp", "fs"),
    ("f#", "fs"),
    ("c++", "cpp"),
    ("golang", "go"),
    ("shell", "bash"),
    ("sh", "bash"),
    ("zsh", "bash"),
    ("console", "bash"),
    ("shell-session", "bash"),
    ("posix", "bash"),
    ("py3", "py"),
    ("python3", "py"),
    ("docker", "dockerfile"),
    ("pwsh", "ps1"),
    ("powershell", "ps1"),
    ("ps", "ps1"),
    ("objective-c", "m"),
    ("objc", "m"),
    ("elisp", "el"),
    ("emacs-lisp", "el"),
    ("viml", "vim"),
    ("terraform", "tf"),
    ("hcl", "tf"),
    ("jsonc", "json"),
    ("json5", "json"),
    ("node", "js"),
    ("ecmascript", "js"),
    ("htm", "html"),
    ("xhtml", "html"),
    ("svg", "xml"),
    ("plist", "xml"),
    ("patch", "diff"),
    ("udiff", "diff"),
    ("md", "markdown"),
    ("proto", "protobuf"),
    ("make", "makefile"),
];

/// Names that mean "no highlighting": written escaped, like an unknown one.
const PLAIN: &[&str] = &["text", "txt", "plain", "plaintext", "none", "output", "log"];

/// The classes a theme styles; see `docs/templates.md`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Keyword,
    Type,
    Literal,
    Str,
    Number,
    Comment,
    Function,
    Attribute,
    Variable,
    Tag,
    AttrName,
    Section,
    Added,
    Deleted,
    Punct,
}

impl Class {
    fn css(self) -> &'static str {
        match self {
            Class::Keyword => "hl-kw",
            Class::Type => "hl-ty",
            Class::Literal => "hl-lit",
            Class::Str => "hl-str",
            Class::Number => "hl-num",
            Class::Comment => "hl-com",
            Class::Function => "hl-fn",
            Class::Attribute => "hl-at",
            Class::Variable => "hl-var",
            Class::Tag => "hl-tag",
            Class::AttrName => "hl-attr",
            Class::Section => "hl-sec",
            Class::Added => "hl-add",
            Class::Deleted => "hl-del",
            Class::Punct => "hl-punct",
        }
    }
}

/// What one scope says about the token it covers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    /// This class, whatever the outer scopes say.
    Class(Class),
    /// Explicitly uncoloured (e.g. `meta.embedded`: code inside a string).
    Plain,
    /// No opinion: ask the enclosing scope.
    Pass,
}

/// Scope prefixes (matched on whole dotted atoms), most specific first; the
/// first that matches decides. The conventions are TextMate's, which every
/// grammar in the collection follows more or less.
const RULES: &[(&str, Verdict)] = &[
    ("comment", Verdict::Class(Class::Comment)),
    (
        "punctuation.definition.comment",
        Verdict::Class(Class::Comment),
    ),
    ("meta.embedded", Verdict::Plain),
    ("source.embedded", Verdict::Plain),
    ("meta.interpolation", Verdict::Plain),
    (
        "punctuation.section.interpolation",
        Verdict::Class(Class::Punct),
    ),
    (
        "punctuation.definition.template-expression",
        Verdict::Class(Class::Punct),
    ),
    (
        "punctuation.definition.variable",
        Verdict::Class(Class::Variable),
    ),
    ("constant.character.escape", Verdict::Class(Class::Literal)),
    ("constant.numeric", Verdict::Class(Class::Number)),
    ("constant.language", Verdict::Class(Class::Literal)),
    ("constant.character", Verdict::Class(Class::Literal)),
    (
        "constant.other.placeholder",
        Verdict::Class(Class::Variable),
    ),
    ("constant", Verdict::Class(Class::Literal)),
    ("string.regexp", Verdict::Class(Class::Str)),
    ("string.unquoted.heredoc", Verdict::Class(Class::Str)),
    ("string", Verdict::Class(Class::Str)),
    ("markup.inserted", Verdict::Class(Class::Added)),
    ("markup.deleted", Verdict::Class(Class::Deleted)),
    ("markup.changed", Verdict::Class(Class::Section)),
    ("meta.diff.range", Verdict::Class(Class::Section)),
    ("meta.diff.header", Verdict::Class(Class::Section)),
    ("markup.heading", Verdict::Class(Class::Section)),
    ("entity.name.section", Verdict::Class(Class::Section)),
    ("markup.raw", Verdict::Class(Class::Str)),
    ("markup.underline.link", Verdict::Class(Class::Str)),
    ("keyword.operator.word", Verdict::Class(Class::Keyword)),
    (
        "keyword.operator.logical.python",
        Verdict::Class(Class::Keyword),
    ),
    ("keyword.operator.new", Verdict::Class(Class::Keyword)),
    (
        "keyword.operator.expression",
        Verdict::Class(Class::Keyword),
    ),
    ("keyword.operator.alignof", Verdict::Class(Class::Keyword)),
    ("keyword.operator.sizeof", Verdict::Class(Class::Keyword)),
    ("keyword.operator", Verdict::Class(Class::Punct)),
    ("keyword", Verdict::Class(Class::Keyword)),
    ("storage.type.primitive", Verdict::Class(Class::Type)),
    ("storage.type.numeric", Verdict::Class(Class::Type)),
    ("storage.type.annotation", Verdict::Class(Class::Attribute)),
    ("storage", Verdict::Class(Class::Keyword)),
    (
        "entity.name.function.decorator",
        Verdict::Class(Class::Attribute),
    ),
    ("meta.decorator", Verdict::Class(Class::Attribute)),
    ("meta.annotation", Verdict::Class(Class::Attribute)),
    (
        "punctuation.definition.annotation",
        Verdict::Class(Class::Attribute),
    ),
    (
        "punctuation.definition.decorator",
        Verdict::Class(Class::Attribute),
    ),
    ("meta.attribute.rust", Verdict::Class(Class::Attribute)),
    ("entity.name.tag", Verdict::Class(Class::Tag)),
    ("punctuation.definition.tag", Verdict::Class(Class::Tag)),
    (
        "entity.other.attribute-name",
        Verdict::Class(Class::AttrName),
    ),
    ("meta.mapping.key", Verdict::Class(Class::AttrName)),
    (
        "support.type.property-name",
        Verdict::Class(Class::AttrName),
    ),
    ("meta.object-literal.key", Verdict::Class(Class::AttrName)),
    ("entity.name.function", Verdict::Class(Class::Function)),
    ("support.function", Verdict::Class(Class::Function)),
    ("variable.function", Verdict::Class(Class::Function)),
    (
        "meta.function-call.identifier",
        Verdict::Class(Class::Function),
    ),
    ("entity.name.macro", Verdict::Class(Class::Function)),
    ("support.macro", Verdict::Class(Class::Function)),
    ("entity.name.type", Verdict::Class(Class::Type)),
    ("entity.name.class", Verdict::Class(Class::Type)),
    ("entity.name.struct", Verdict::Class(Class::Type)),
    ("entity.name.enum", Verdict::Class(Class::Type)),
    ("entity.name.trait", Verdict::Class(Class::Type)),
    ("entity.name.interface", Verdict::Class(Class::Type)),
    ("entity.name.union", Verdict::Class(Class::Type)),
    ("entity.other.inherited-class", Verdict::Class(Class::Type)),
    ("support.type", Verdict::Class(Class::Type)),
    ("support.class", Verdict::Class(Class::Type)),
    ("entity.name.constant", Verdict::Class(Class::Literal)),
    ("support.constant", Verdict::Class(Class::Literal)),
    ("variable.language", Verdict::Class(Class::Literal)),
    ("variable.other.constant", Verdict::Class(Class::Literal)),
    ("variable.parameter", Verdict::Class(Class::Variable)),
    (
        "variable.other.readwrite.shell",
        Verdict::Class(Class::Variable),
    ),
    (
        "variable.other.bracket.shell",
        Verdict::Class(Class::Variable),
    ),
    (
        "variable.other.normal.shell",
        Verdict::Class(Class::Variable),
    ),
    (
        "variable.other.special.shell",
        Verdict::Class(Class::Variable),
    ),
    (
        "variable.other.positional.shell",
        Verdict::Class(Class::Variable),
    ),
    ("variable.other.php", Verdict::Class(Class::Variable)),
    ("variable.other.powershell", Verdict::Class(Class::Variable)),
    (
        "variable.other.readwrite.powershell",
        Verdict::Class(Class::Variable),
    ),
    ("variable.other.makefile", Verdict::Class(Class::Variable)),
    (
        "variable.other.readwrite.instance",
        Verdict::Class(Class::Variable),
    ),
    (
        "variable.other.readwrite.global",
        Verdict::Class(Class::Variable),
    ),
];

/// The verdict of one scope, by the first matching rule.
fn judge(scope: Scope) -> Verdict {
    let name = scope.build_string();
    RULES
        .iter()
        .find(|(prefix, _)| {
            name.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
        .map_or(Verdict::Pass, |(_, verdict)| *verdict)
}

thread_local! {
    /// Each scope's verdict, worked out once per thread: building a scope's
    /// string and walking the rules costs far more than a lookup.
    static VERDICTS: RefCell<HashMap<Scope, Verdict>> = RefCell::new(HashMap::new());
}

/// The class of a token under `stack`: the innermost scope with an opinion.
fn class_of(stack: &[Scope], verdicts: &mut HashMap<Scope, Verdict>) -> Option<Class> {
    for scope in stack.iter().rev() {
        let verdict = *verdicts.entry(*scope).or_insert_with(|| judge(*scope));
        match verdict {
            Verdict::Class(class) => return Some(class),
            Verdict::Plain => return None,
            Verdict::Pass => {}
        }
    }
    None
}

/// The grammar for a fence's language name, if any (names are matched
/// without regard to case, by file extension first, then by grammar name).
fn find_syntax(lang: &str) -> Option<&'static SyntaxReference> {
    let lang = lang.trim();
    if lang.is_empty() || PLAIN.iter().any(|p| p.eq_ignore_ascii_case(lang)) {
        return None;
    }
    let lower = lang.to_ascii_lowercase();
    let token = ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map_or(lower.as_str(), |(_, target)| target);
    let syntaxes = &*SYNTAXES;
    syntaxes
        .find_syntax_by_token(token)
        .or_else(|| syntaxes.find_syntax_by_extension(token))
}

/// Whether `lang` names a language the highlighter colours.
pub fn is_known(lang: &str) -> bool {
    find_syntax(lang).is_some()
}

/// Appends `code` to `out` as escaped HTML with highlight spans for `lang`.
/// Unknown languages, grammar errors and oversized blocks come out escaped
/// without spans; this never fails.
pub fn highlight(lang: &str, code: &str, out: &mut String) {
    let Some(syntax) = find_syntax(lang) else {
        escape_into(code, out);
        return;
    };
    if code.len() > MAX_BLOCK_BYTES || code.lines().any(|line| line.len() > MAX_LINE_BYTES) {
        escape_into(code, out);
        return;
    }
    // The grammar's name, not the fence's: `rs` and `rust` share entries.
    let key = highlight_memo::key(&syntax.name, code);
    if let Some(html) = highlight_memo::get(&key) {
        out.push_str(&html);
        return;
    }
    let start = out.len();
    let coloured =
        VERDICTS.with(|verdicts| colour(syntax, code, out, &mut verdicts.borrow_mut()).is_some());
    if !coloured {
        out.truncate(start);
        escape_into(code, out);
    }
    highlight_memo::put(key, &out[start..]);
}

/// The spans of one block, or `None` if the grammar failed on it (the
/// caller then writes it plain).
fn colour(
    syntax: &SyntaxReference,
    code: &str,
    out: &mut String,
    verdicts: &mut HashMap<Scope, Verdict>,
) -> Option<()> {
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut spans = Spans::new(out);
    for line in code.split_inclusive('\n') {
        let ops = state.parse_line(line, &SYNTAXES).ok()?;
        let mut at = 0;
        for (offset, op) in &ops {
            let offset = (*offset).min(line.len());
            if offset > at {
                spans.push(class_of(stack.as_slice(), verdicts), &line[at..offset]);
                at = offset;
            }
            stack.apply(op).ok()?;
        }
        if at < line.len() {
            spans.push(class_of(stack.as_slice(), verdicts), &line[at..]);
        }
    }
    spans.finish();
    Some(())
}

/// Writes tokens, opening a span only when the class changes. Whitespace
/// between two tokens of one class stays inside their span; elsewhere it is
/// written outside any span.
struct Spans<'o> {
    out: &'o mut String,
    open: Option<Class>,
    /// Whitespace after the open span, waiting for the next token's class.
    pending: String,
}

impl<'o> Spans<'o> {
    fn new(out: &'o mut String) -> Self {
        Spans {
            out,
            open: None,
            pending: String::new(),
        }
    }

    fn push(&mut self, class: Option<Class>, text: &str) {
        // Diff lines keep their whitespace: their background shows it.
        let blank = text.trim().is_empty() && !matches!(class, Some(Class::Added | Class::Deleted));
        if blank && self.open.is_some() {
            self.pending.push_str(text);
            return;
        }
        if class != self.open {
            if self.open.is_some() {
                self.out.push_str("</span>");
            }
            escape_into(&self.pending, self.out);
            self.pending.clear();
            if let Some(class) = class {
                self.out.push_str("<span class=\"");
                self.out.push_str(class.css());
                self.out.push_str("\">");
            }
            self.open = class;
        } else {
            escape_into(&self.pending, self.out);
            self.pending.clear();
        }
        escape_into(text, self.out);
    }

    fn finish(self) {
        if self.open.is_some() {
            self.out.push_str("</span>");
        }
        escape_into(&self.pending, self.out);
    }
}

/// Escapes `text` for HTML element content and appends it to `out`.
pub fn escape_into(text: &str, out: &mut String) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(entity);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hl(lang: &str, code: &str) -> String {
        let mut out = String::new();
        highlight(lang, code, &mut out);
        out
    }

    /// The (class, text) runs of `html`, for readable assertions.
    fn runs(html: &str) -> Vec<(String, String)> {
        let mut runs = Vec::new();
        let mut rest = html;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("<span class=\"") {
                let (class, after) = after.split_once("\">").unwrap();
                let (text, after) = after.split_once("</span>").unwrap();
                runs.push((class.to_string(), text.to_string()));
                rest = after;
            } else {
                let end = rest.find("<span").unwrap_or(rest.len());
                runs.push((String::new(), rest[..end].to_string()));
                rest = &rest[end..];
            }
        }
        runs
    }

    fn class_of_text(html: &str, text: &str) -> Option<String> {
        runs(html)
            .into_iter()
            .find(|(_, t)| t.trim() == text)
            .map(|(class, _)| class)
    }

    #[test]
    fn rust_tokens() {
        let html = hl(
            "rust",
            "#[derive(Debug)]\nstruct A;\nfn main() { let x: u8 = 42; } // hi\n",
        );
        assert_eq!(
            class_of_text(&html, "fn").as_deref(),
            Some("hl-kw"),
            "{html}"
        );
        assert_eq!(
            class_of_text(&html, "main").as_deref(),
            Some("hl-fn"),
            "{html}"
        );
        assert_eq!(
            class_of_text(&html, "A").as_deref(),
            Some("hl-ty"),
            "{html}"
        );
        assert!(
            html.starts_with("<span class=\"hl-at\">#[derive(Debug)]"),
            "{html}"
        );
        assert_eq!(
            class_of_text(&html, "42").as_deref(),
            Some("hl-num"),
            "{html}"
        );
        assert_eq!(
            class_of_text(&html, "// hi").as_deref(),
            Some("hl-com"),
            "{html}"
        );
    }

    #[test]
    fn strings_are_escaped_inside_their_span() {
        let html = hl("python", "@app\ndef f():\n    return \"<b>\"\n");
        assert_eq!(
            class_of_text(&html, "def").as_deref(),
            Some("hl-kw"),
            "{html}"
        );
        assert_eq!(
            class_of_text(&html, "f").as_deref(),
            Some("hl-fn"),
            "{html}"
        );
        assert_eq!(
            class_of_text(&html, "&quot;&lt;b&gt;&quot;").as_deref(),
            Some("hl-str"),
            "{html}"
        );
        assert!(
            class_of_text(&html, "@app").is_some_and(|c| c == "hl-at")
                || class_of_text(&html, "app").is_some_and(|c| c == "hl-at"),
            "{html}"
        );
        assert!(!html.contains("<b>"), "{html}");
    }

    #[test]
    fn languages_blogs_use_beyond_the_usual_few_are_coloured() {
        for (lang, code) in [
            ("ruby", "def hi\n  puts 'x'\nend\n"),
            ("kotlin", "fun main() { val x = 1 }\n"),
            ("swift", "func f() -> Int { return 1 }\n"),
            ("haskell", "main :: IO ()\nmain = putStrLn \"hi\"\n"),
            ("elixir", "defmodule M do\nend\n"),
            ("lua", "local x = 1\n"),
            ("dockerfile", "FROM debian\nRUN echo hi\n"),
            ("nix", "{ pkgs ? import <nixpkgs> {} }: pkgs.hello\n"),
            ("powershell", "Get-ChildItem -Path C:\\ # list\n"),
            ("zig", "const std = @import(\"std\");\n"),
            ("csharp", "public class A { }\n"),
            ("c#", "public class A { }\n"),
            ("typescript", "const x: number = 1;\n"),
            ("sql", "SELECT * FROM t WHERE a = 1;\n"),
            ("yaml", "draft: false\n"),
            ("toml", "[site]\ntitle = \"x\"\n"),
            ("json", "{\"a\": true}\n"),
            ("html", "<a href=\"/\">x</a>\n"),
            ("diff", "-a\n+b\n"),
            ("bash", "echo $HOME\n"),
            ("go", "package main\nfunc main() {}\n"),
            ("java", "class A { void f() {} }\n"),
            ("cpp", "int main() { return 0; }\n"),
            ("scss", "a { color: red; }\n"),
        ] {
            assert!(is_known(lang), "{lang} has no grammar");
            let html = hl(lang, code);
            assert!(html.contains("<span class=\"hl-"), "{lang}: {html}");
            assert_eq!(strip(&html), escaped(code), "{lang}: text changed");
        }
    }

    fn strip(html: &str) -> String {
        runs(html).into_iter().map(|(_, text)| text).collect()
    }

    fn escaped(code: &str) -> String {
        let mut out = String::new();
        escape_into(code, &mut out);
        out
    }

    #[test]
    fn data_and_markup_classes() {
        let toml = hl("toml", "[site]\ntitle = \"x\" # c\n");
        assert_eq!(
            class_of_text(&toml, "# c").as_deref(),
            Some("hl-com"),
            "{toml}"
        );
        assert_eq!(
            class_of_text(&toml, "&quot;x&quot;").as_deref(),
            Some("hl-str"),
            "{toml}"
        );
        let html = hl("html", "<a href=\"/\">x</a>\n");
        assert!(
            runs(&html)
                .iter()
                .any(|(c, t)| c == "hl-tag" && t.contains('a')),
            "{html}"
        );
        assert_eq!(
            class_of_text(&html, "href").as_deref(),
            Some("hl-attr"),
            "{html}"
        );
        let diff = hl("diff", "@@ -1 +1 @@\n-a\n+b\n");
        assert!(
            runs(&diff)
                .iter()
                .any(|(c, t)| c == "hl-del" && t.starts_with("-a")),
            "{diff}"
        );
        assert!(
            runs(&diff)
                .iter()
                .any(|(c, t)| c == "hl-add" && t.starts_with("+b")),
            "{diff}"
        );
        let bash = hl("bash", "echo $HOME\n");
        assert!(
            runs(&bash)
                .iter()
                .any(|(c, t)| c == "hl-var" && t.contains("HOME")),
            "{bash}"
        );
    }

    #[test]
    fn adjacent_tokens_of_one_class_share_a_span() {
        let html = hl("rust", "// one two three\n");
        assert_eq!(html.matches("<span").count(), 1, "{html}");
    }

    #[test]
    fn unknown_and_plain_languages_are_only_escaped() {
        assert_eq!(hl("brainfudge", "<>&\""), "&lt;&gt;&amp;&quot;");
        assert_eq!(hl("text", "fn main"), "fn main");
        assert_eq!(hl("", "<x>"), "&lt;x&gt;");
    }

    #[test]
    fn oversized_blocks_and_lines_are_escaped_without_colour() {
        let long_line = format!("let x = \"{}\";\n", "a".repeat(MAX_LINE_BYTES + 1));
        assert_eq!(hl("rust", &long_line), escaped(&long_line));
        let many = "let x = 1;\n".repeat(MAX_BLOCK_BYTES / 10);
        assert_eq!(hl("rust", &many), escaped(&many));
    }

    #[test]
    fn unterminated_constructs_and_odd_input_never_fail() {
        for code in [
            "\"never closed",
            "/* open",
            "\u{0}\u{7f}\r\n\t",
            "r#\"",
            "é ñ 日本",
        ] {
            for lang in ["rust", "python", "html", "bash", "markdown"] {
                let html = hl(lang, code);
                assert_eq!(strip(&html), escaped(code), "{lang} {code:?}: {html}");
            }
        }
    }
}

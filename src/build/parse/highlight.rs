//! Build-time syntax highlighting into `<span class="hl-…">` tokens.
//!
//! A small table-driven lexer instead of a TextMate-grammar engine such as
//! syntect: it knows comments, strings, numbers, keywords, types, literals,
//! function calls and attributes for the languages blogs show most, and it
//! runs at memory speed, where a grammar engine costs seconds on a large
//! site. Unknown languages are escaped without spans. The class names are the
//! contract in `docs/templates.md`.

/// How a language is tokenised.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    /// C-like and script languages: the generic lexer.
    Code,
    /// HTML and XML.
    Markup,
    /// TOML and INI.
    Toml,
    /// YAML.
    Yaml,
    /// JSON.
    Json,
    /// Unified diffs.
    Diff,
}

struct Lang {
    names: &'static [&'static str],
    family: Family,
    line_comments: &'static [&'static str],
    block_comment: Option<(&'static str, &'static str)>,
    quotes: &'static [char],
    keywords: &'static [&'static str],
    types: &'static [&'static str],
    literals: &'static [&'static str],
    /// Identifiers starting with an uppercase letter are types.
    capitalised_types: bool,
    /// `$name` and `${name}` are variables.
    dollar_vars: bool,
    /// `@name` is an attribute or decorator.
    at_attributes: bool,
    /// Keywords match in any case (SQL).
    case_insensitive: bool,
}

const CODE: Lang = Lang {
    names: &[],
    family: Family::Code,
    line_comments: &[],
    block_comment: None,
    quotes: &['"', '\''],
    keywords: &[],
    types: &[],
    literals: &["true", "false"],
    capitalised_types: false,
    dollar_vars: false,
    at_attributes: false,
    case_insensitive: false,
};

const LANGS: &[Lang] = &[
    Lang {
        names: &["rust", "rs"],
        line_comments: &["//"],
        block_comment: Some(("/*", "*/")),
        quotes: &['"'],
        keywords: &[
            "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
            "extern", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
            "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
            "type", "unsafe", "use", "where", "while",
        ],
        types: &[
            "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32",
            "i64", "i128", "isize", "f32", "f64",
        ],
        literals: &["true", "false", "None", "Some", "Ok", "Err"],
        capitalised_types: true,
        ..CODE
    },
    Lang {
        names: &["python", "py"],
        line_comments: &["#"],
        keywords: &[
            "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
            "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
            "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
            "with", "yield", "self",
        ],
        types: &[
            "int", "str", "float", "bool", "list", "dict", "set", "tuple", "bytes", "object",
        ],
        literals: &["True", "False", "None"],
        capitalised_types: true,
        at_attributes: true,
        ..CODE
    },
    Lang {
        names: &["javascript", "js", "typescript", "ts", "jsx", "tsx", "mjs"],
        line_comments: &["//"],
        block_comment: Some(("/*", "*/")),
        quotes: &['"', '\'', '`'],
        keywords: &[
            "async",
            "await",
            "break",
            "case",
            "catch",
            "class",
            "const",
            "continue",
            "default",
            "delete",
            "do",
            "else",
            "export",
            "extends",
            "finally",
            "for",
            "from",
            "function",
            "if",
            "import",
            "in",
            "instanceof",
            "interface",
            "let",
            "new",
            "of",
            "return",
            "static",
            "switch",
            "this",
            "throw",
            "try",
            "type",
            "typeof",
            "var",
            "void",
            "while",
            "yield",
        ],
        types: &[
            "string", "number", "boolean", "any", "unknown", "never", "object",
        ],
        literals: &["true", "false", "null", "undefined", "NaN"],
        capitalised_types: true,
        at_attributes: true,
        ..CODE
    },
    Lang {
        names: &["go", "golang"],
        line_comments: &["//"],
        block_comment: Some(("/*", "*/")),
        quotes: &['"', '\'', '`'],
        keywords: &[
            "break",
            "case",
            "chan",
            "const",
            "continue",
            "default",
            "defer",
            "else",
            "fallthrough",
            "for",
            "func",
            "go",
            "goto",
            "if",
            "import",
            "interface",
            "map",
            "package",
            "range",
            "return",
            "select",
            "struct",
            "switch",
            "type",
            "var",
        ],
        types: &[
            "bool", "byte", "error", "float32", "float64", "int", "int8", "int16", "int32",
            "int64", "rune", "string", "uint", "uint8", "uint16", "uint32", "uint64",
        ],
        literals: &["true", "false", "nil", "iota"],
        ..CODE
    },
    Lang {
        names: &[
            "c", "h", "cpp", "c++", "cc", "hpp", "java", "kotlin", "kt", "csharp", "cs", "swift",
        ],
        line_comments: &["//"],
        block_comment: Some(("/*", "*/")),
        keywords: &[
            "auto",
            "break",
            "case",
            "catch",
            "class",
            "const",
            "continue",
            "default",
            "delete",
            "do",
            "else",
            "enum",
            "extends",
            "extern",
            "final",
            "for",
            "fun",
            "func",
            "goto",
            "if",
            "implements",
            "import",
            "include",
            "inline",
            "interface",
            "let",
            "namespace",
            "new",
            "override",
            "package",
            "private",
            "protected",
            "public",
            "return",
            "sizeof",
            "static",
            "struct",
            "switch",
            "template",
            "this",
            "throw",
            "try",
            "typedef",
            "union",
            "using",
            "val",
            "var",
            "virtual",
            "void",
            "volatile",
            "while",
        ],
        types: &[
            "bool", "char", "double", "float", "int", "long", "short", "signed", "unsigned",
            "size_t", "String", "boolean", "byte",
        ],
        literals: &["true", "false", "null", "nullptr", "NULL"],
        capitalised_types: true,
        at_attributes: true,
        ..CODE
    },
    Lang {
        names: &["bash", "sh", "shell", "zsh", "console", "shell-session"],
        line_comments: &["#"],
        keywords: &[
            "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case",
            "esac", "in", "function", "return", "local", "export", "set", "unset", "source",
            "exit", "cd", "echo", "sudo",
        ],
        dollar_vars: true,
        ..CODE
    },
    Lang {
        names: &["sql", "postgresql", "psql", "sqlite", "mysql"],
        line_comments: &["--"],
        block_comment: Some(("/*", "*/")),
        quotes: &['\''],
        keywords: &[
            "select",
            "from",
            "where",
            "and",
            "or",
            "not",
            "insert",
            "into",
            "values",
            "update",
            "set",
            "delete",
            "create",
            "table",
            "index",
            "on",
            "join",
            "left",
            "right",
            "inner",
            "outer",
            "group",
            "by",
            "order",
            "limit",
            "offset",
            "as",
            "primary",
            "key",
            "references",
            "foreign",
            "unique",
            "drop",
            "alter",
            "add",
            "having",
            "distinct",
            "union",
            "with",
            "returning",
            "begin",
            "commit",
            "rollback",
            "asc",
            "desc",
            "is",
            "in",
            "exists",
            "default",
        ],
        types: &[
            "integer",
            "int",
            "bigint",
            "text",
            "varchar",
            "boolean",
            "timestamp",
            "timestamptz",
            "date",
            "real",
            "serial",
            "uuid",
            "jsonb",
            "blob",
        ],
        literals: &["true", "false", "null"],
        case_insensitive: true,
        ..CODE
    },
    Lang {
        names: &["css", "scss"],
        block_comment: Some(("/*", "*/")),
        line_comments: &[],
        keywords: &[
            "important",
            "media",
            "supports",
            "import",
            "keyframes",
            "font-face",
            "layer",
            "container",
        ],
        at_attributes: true,
        ..CODE
    },
    Lang {
        names: &["html", "xml", "svg", "xhtml", "atom", "rss"],
        family: Family::Markup,
        ..CODE
    },
    Lang {
        names: &["toml", "ini", "cfg"],
        family: Family::Toml,
        line_comments: &["#", ";"],
        ..CODE
    },
    Lang {
        names: &["yaml", "yml"],
        family: Family::Yaml,
        line_comments: &["#"],
        literals: &["true", "false", "null", "yes", "no", "~"],
        ..CODE
    },
    Lang {
        names: &["json", "jsonc", "json5"],
        family: Family::Json,
        line_comments: &["//"],
        literals: &["true", "false", "null"],
        ..CODE
    },
    Lang {
        names: &["diff", "patch"],
        family: Family::Diff,
        ..CODE
    },
];

fn find_lang(name: &str) -> Option<&'static Lang> {
    LANGS.iter().find(|lang| lang.names.contains(&name))
}

/// Appends `code` to `out` as escaped HTML with highlight spans for `lang`.
pub fn highlight(lang: &str, code: &str, out: &mut String) {
    let Some(spec) = find_lang(lang) else {
        escape_into(code, out);
        return;
    };
    let mut lexer = Lexer {
        spec,
        src: code,
        pos: 0,
        out,
    };
    match spec.family {
        Family::Code => lexer.code(),
        Family::Markup => lexer.markup(),
        Family::Toml | Family::Yaml | Family::Json => lexer.data(),
        Family::Diff => lexer.diff(),
    }
}

struct Lexer<'s, 'o> {
    spec: &'static Lang,
    src: &'s str,
    pos: usize,
    out: &'o mut String,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Lexer<'_, '_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn span(&mut self, class: &str, len: usize) {
        let text = &self.src[self.pos..self.pos + len];
        self.out.push_str("<span class=\"hl-");
        self.out.push_str(class);
        self.out.push_str("\">");
        escape_into(text, self.out);
        self.out.push_str("</span>");
        self.pos += len;
    }

    fn plain(&mut self, len: usize) {
        escape_into(&self.src[self.pos..self.pos + len], self.out);
        self.pos += len;
    }

    fn plain_char(&mut self) {
        let len = self.peek().map_or(1, char::len_utf8);
        self.plain(len);
    }

    fn line_len(&self) -> usize {
        self.rest().find('\n').unwrap_or(self.rest().len())
    }

    /// Length of a comment starting here, if one does.
    fn comment_len(&self) -> Option<usize> {
        let rest = self.rest();
        if self
            .spec
            .line_comments
            .iter()
            .any(|start| rest.starts_with(start))
        {
            return Some(self.line_len());
        }
        let (open, close) = self.spec.block_comment?;
        rest.starts_with(open).then(|| {
            rest[open.len()..]
                .find(close)
                .map_or(rest.len(), |i| open.len() + i + close.len())
        })
    }

    /// Length of a quoted string starting here, with backslash escapes.
    fn string_len(&self, quote: char) -> usize {
        let rest = self.rest();
        let triple: String = std::iter::repeat_n(quote, 3).collect();
        if quote != '`' && rest.starts_with(&triple) {
            return rest[3..].find(&triple).map_or(rest.len(), |i| i + 6);
        }
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == quote {
                return i + 1;
            } else if c == '\n' && quote != '`' {
                return i;
            }
        }
        rest.len()
    }

    fn number_len(&self) -> usize {
        let rest = self.rest();
        rest.char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
            .map_or(rest.len(), |(i, _)| i)
    }

    fn ident_len(&self) -> usize {
        let rest = self.rest();
        rest.char_indices()
            .find(|(_, c)| !is_ident_char(*c))
            .map_or(rest.len(), |(i, _)| i)
    }

    fn word_class(&self, word: &str) -> Option<&'static str> {
        let spec = self.spec;
        let matches = |list: &[&str]| {
            if spec.case_insensitive {
                list.iter().any(|k| k.eq_ignore_ascii_case(word))
            } else {
                list.contains(&word)
            }
        };
        if matches(spec.literals) {
            Some("lit")
        } else if matches(spec.keywords) {
            Some("kw")
        } else if matches(spec.types)
            || (spec.capitalised_types && word.starts_with(|c: char| c.is_uppercase()))
        {
            Some("ty")
        } else {
            None
        }
    }

    fn code(&mut self) {
        let mut previous_ident = false;
        while let Some(c) = self.peek() {
            if let Some(len) = self.comment_len() {
                self.span("com", len);
                previous_ident = false;
                continue;
            }
            if self.spec.quotes.contains(&c) && !(c == '\'' && previous_ident) {
                let len = self.string_len(c);
                // A Rust lifetime or char literal that is not closed nearby stays plain.
                if c == '\''
                    && self.spec.names[0] == "rust"
                    && len > 4
                    && !self.rest()[..len].ends_with('\'')
                {
                    self.plain_char();
                } else {
                    self.span("str", len);
                }
                previous_ident = false;
                continue;
            }
            if c.is_ascii_digit() && !previous_ident {
                let len = self.number_len();
                self.span("num", len);
                continue;
            }
            if self.spec.dollar_vars && c == '$' {
                let after = &self.rest()[1..];
                let len = if after.starts_with('{') {
                    after.find('}').map_or(1, |i| i + 2)
                } else {
                    1 + after
                        .char_indices()
                        .find(|(_, c)| !is_ident_char(*c))
                        .map_or(after.len(), |(i, _)| i)
                };
                if len > 1 {
                    self.span("var", len);
                } else {
                    self.plain(1);
                }
                continue;
            }
            if self.spec.at_attributes && c == '@' {
                let len = 1 + self.rest()[1..]
                    .char_indices()
                    .find(|(_, c)| !(is_ident_char(*c) || *c == '-' || *c == '.'))
                    .map_or(self.rest().len() - 1, |(i, _)| i);
                if len > 1 {
                    self.span("at", len);
                } else {
                    self.plain(1);
                }
                continue;
            }
            if c == '#' && self.spec.names[0] == "rust" && self.rest()[1..].starts_with(['[', '!'])
            {
                let len = self.rest().find(']').map_or(self.line_len(), |i| i + 1);
                self.span("at", len.min(self.line_len()));
                continue;
            }
            if is_ident_start(c) {
                let len = self.ident_len();
                let word = &self.rest()[..len];
                let after = self.rest()[len..].trim_start_matches([' ', '!']);
                match self.word_class(word) {
                    Some(class) => self.span(class, len),
                    None if after.starts_with('(') => self.span("fn", len),
                    None => self.plain(len),
                }
                previous_ident = true;
                continue;
            }
            if self.rest().starts_with("=>") || self.rest().starts_with("->") {
                self.span("punct", 2);
                previous_ident = false;
                continue;
            }
            previous_ident = c == ')' || c == ']';
            self.plain_char();
        }
    }

    fn markup(&mut self) {
        while let Some(c) = self.peek() {
            let rest = self.rest();
            if rest.starts_with("<!--") {
                let len = rest.find("-->").map_or(rest.len(), |i| i + 3);
                self.span("com", len);
            } else if c == '<'
                && rest[1..]
                    .starts_with(|c: char| c.is_alphabetic() || c == '/' || c == '!' || c == '?')
            {
                let len = 1 + rest[1..]
                    .char_indices()
                    .find(|(_, c)| c.is_whitespace() || *c == '>')
                    .map_or(rest.len() - 1, |(i, _)| i);
                self.span("tag", len);
                self.markup_attributes();
            } else {
                self.plain_char();
            }
        }
    }

    fn markup_attributes(&mut self) {
        while let Some(c) = self.peek() {
            if c == '>' || self.rest().starts_with("/>") {
                let len = if c == '>' { 1 } else { 2 };
                self.span("tag", len);
                return;
            }
            if c == '"' || c == '\'' {
                let len = self.rest()[1..]
                    .find(c)
                    .map_or(self.rest().len(), |i| i + 2);
                self.span("str", len);
            } else if is_ident_start(c) {
                let len = self
                    .rest()
                    .char_indices()
                    .find(|(_, c)| !(is_ident_char(*c) || *c == '-' || *c == ':'))
                    .map_or(self.rest().len(), |(i, _)| i);
                self.span("attr", len);
            } else {
                self.plain_char();
            }
        }
    }

    /// TOML, YAML and JSON: keys, section headers, strings, numbers, literals.
    fn data(&mut self) {
        let family = self.spec.family;
        let mut line_start = true;
        while let Some(c) = self.peek() {
            if c == '\n' {
                line_start = true;
                self.plain(1);
                continue;
            }
            if line_start && (c == ' ' || c == '\t' || (family == Family::Yaml && c == '-')) {
                self.plain_char();
                continue;
            }
            if let Some(len) = self.comment_len()
                && (family != Family::Json || c == '/')
            {
                self.span("com", len);
                continue;
            }
            if line_start && family == Family::Toml && c == '[' {
                let len = self.line_len();
                self.span("sec", len);
                continue;
            }
            if line_start && family != Family::Json {
                let line = &self.rest()[..self.line_len()];
                let separator = if family == Family::Toml { '=' } else { ':' };
                if let Some(i) = line.find(separator)
                    && i > 0
                    && !line[..i].contains(['"', '\'', '{', '['])
                    && (family == Family::Toml
                        || line[i + 1..].is_empty()
                        || line[i + 1..].starts_with(' '))
                {
                    let key = line[..i].trim_end().len();
                    self.span("attr", key);
                    line_start = false;
                    continue;
                }
            }
            line_start = false;
            if c == '"' || c == '\'' {
                let len = self.string_len(c);
                let is_key =
                    family == Family::Json && self.rest()[len..].trim_start().starts_with(':');
                self.span(if is_key { "attr" } else { "str" }, len);
            } else if c.is_ascii_digit()
                || (c == '-' && self.rest()[1..].starts_with(|c: char| c.is_ascii_digit()))
            {
                let len = 1 + self.rest()[1..]
                    .char_indices()
                    .find(|(_, c)| {
                        !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '+'))
                    })
                    .map_or(self.rest().len() - 1, |(i, _)| i);
                self.span("num", len);
            } else if is_ident_start(c) || c == '~' {
                let len = self.ident_len().max(1);
                let word = &self.rest()[..len];
                if self.spec.literals.contains(&word) {
                    self.span("lit", len);
                } else {
                    self.plain(len);
                }
            } else {
                self.plain_char();
            }
        }
    }

    fn diff(&mut self) {
        while self.pos < self.src.len() {
            let len = self.line_len();
            let line = &self.rest()[..len];
            let class = if line.starts_with("+++")
                || line.starts_with("---")
                || line.starts_with("@@")
                || line.starts_with("diff ")
            {
                Some("sec")
            } else if line.starts_with('+') {
                Some("add")
            } else if line.starts_with('-') {
                Some("del")
            } else {
                None
            };
            match class {
                Some(class) if len > 0 => self.span(class, len),
                _ => self.plain(len),
            }
            if self.pos < self.src.len() {
                self.plain(1);
            }
        }
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

    #[test]
    fn rust_tokens() {
        assert_eq!(
            hl("rust", "let x: u8 = 42; // hi"),
            "<span class=\"hl-kw\">let</span> x: <span class=\"hl-ty\">u8</span> = <span class=\"hl-num\">42</span>; <span class=\"hl-com\">// hi</span>"
        );
        assert_eq!(
            hl("rust", "foo(&'a x)"),
            "<span class=\"hl-fn\">foo</span>(&amp;'a x)"
        );
    }

    #[test]
    fn python_strings_and_decorators() {
        assert_eq!(
            hl("python", "@app\ndef f(): return \"<b>\""),
            "<span class=\"hl-at\">@app</span>\n<span class=\"hl-kw\">def</span> <span class=\"hl-fn\">f</span>(): <span class=\"hl-kw\">return</span> <span class=\"hl-str\">&quot;&lt;b&gt;&quot;</span>"
        );
    }

    #[test]
    fn data_languages() {
        assert_eq!(
            hl("toml", "[site]\ntitle = \"x\" # c"),
            "<span class=\"hl-sec\">[site]</span>\n<span class=\"hl-attr\">title</span> = <span class=\"hl-str\">&quot;x&quot;</span> <span class=\"hl-com\"># c</span>"
        );
        assert_eq!(
            hl("json", "{\"a\": true}"),
            "{<span class=\"hl-attr\">&quot;a&quot;</span>: <span class=\"hl-lit\">true</span>}"
        );
        assert_eq!(
            hl("yaml", "draft: false"),
            "<span class=\"hl-attr\">draft</span>: <span class=\"hl-lit\">false</span>"
        );
    }

    #[test]
    fn markup_and_diff_and_shell() {
        assert_eq!(
            hl("html", "<a href=\"/\">x</a>"),
            "<span class=\"hl-tag\">&lt;a</span> <span class=\"hl-attr\">href</span>=<span class=\"hl-str\">&quot;/&quot;</span><span class=\"hl-tag\">&gt;</span>x<span class=\"hl-tag\">&lt;/a</span><span class=\"hl-tag\">&gt;</span>"
        );
        assert_eq!(
            hl("diff", "-a\n+b"),
            "<span class=\"hl-del\">-a</span>\n<span class=\"hl-add\">+b</span>"
        );
        assert_eq!(
            hl("bash", "echo $HOME"),
            "<span class=\"hl-kw\">echo</span> <span class=\"hl-var\">$HOME</span>"
        );
    }

    #[test]
    fn unknown_language_is_only_escaped() {
        assert_eq!(hl("brainfuck", "<>"), "&lt;&gt;");
    }
}

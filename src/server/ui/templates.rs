//! The admin templates, compiled once into the binary (they are part of
//! quire, not of the site's theme).

use tera::{Context, Tera};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("register.html", include_str!("templates/register.html")),
    ("reset.html", include_str!("templates/reset.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    ("editor.html", include_str!("templates/editor.html")),
    ("conflict.html", include_str!("templates/conflict.html")),
    ("media.html", include_str!("templates/media.html")),
    ("profile.html", include_str!("templates/profile.html")),
    ("users.html", include_str!("templates/users.html")),
    ("settings.html", include_str!("templates/settings.html")),
    ("message.html", include_str!("templates/message.html")),
    ("history.html", include_str!("templates/history.html")),
    ("pager.html", include_str!("templates/pager.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("login_code.html", include_str!("templates/login_code.html")),
];

/// The compiled admin templates (part of the binary, not of the theme).
pub struct Templates(Tera);

impl Templates {
    /// Renders template `name` with `context`.
    pub fn render(&self, name: &str, context: &Context) -> Result<String, tera::Error> {
        self.0.render(name, context)
    }

    /// Compiles the embedded templates; a broken one is a bug caught by tests.
    pub fn new() -> Self {
        let mut tera = Tera::new();
        tera.add_raw_templates(TEMPLATES.iter().copied())
            .expect("the embedded admin templates are valid");
        Self(tera)
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile_and_escape() {
        let templates = Templates::new();
        let mut context = Context::new();
        context.insert("title", "<script>");
        context.insert("message", "<b>x</b>");
        context.insert("site_title", "Site");
        context.insert("csrf", "token");
        context.insert("registration", &false);
        let html = templates.0.render("message.html", &context).unwrap();
        assert!(
            html.contains("&lt;b&gt;x&lt;&#x2F;b&gt;") || html.contains("&lt;b&gt;x&lt;/b&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>"));
    }
}

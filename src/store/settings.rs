//! The site settings an admin may change from the browser: title,
//! description and posts per page, edited in place in config.toml so that
//! comments and every other key stay as they were.

use std::io;

use serde::Serialize;
use toml_edit::{DocumentMut, value};

use super::document::FieldError;
use crate::config::{CONFIG_FILE, Config};
use crate::fsx::Durability;

/// The editable settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteSettings {
    /// Site title.
    pub title: String,
    /// Site description.
    pub description: String,
    /// Posts per listing page.
    pub posts_per_page: usize,
}

impl SiteSettings {
    /// The current values.
    pub fn of(config: &Config) -> Self {
        Self {
            title: config.title.clone(),
            description: config.description.clone(),
            posts_per_page: config.posts_per_page.get(),
        }
    }
}

/// Why the settings could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Field problems.
    #[error("the settings have problems: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// config.toml is unreadable or unwritable.
    #[error("cannot update config.toml: {0}")]
    Io(#[from] io::Error),
}

/// Writes `settings` into `config`'s config.toml and returns the new config.
pub fn save(config: &Config, settings: &SiteSettings) -> Result<Config, SettingsError> {
    let mut errors = Vec::new();
    let title = settings.title.trim();
    if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "title",
            "the title needs 1 to 200 characters on one line",
        ));
    }
    if settings.description.chars().count() > 1000 {
        errors.push(FieldError::new(
            "description",
            "the description is longer than 1,000 characters",
        ));
    }
    if !(1..=1000).contains(&settings.posts_per_page) {
        errors.push(FieldError::new(
            "posts_per_page",
            "posts per page must be between 1 and 1000",
        ));
    }
    if !errors.is_empty() {
        return Err(SettingsError::Invalid(errors));
    }
    let path = config.root.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path)?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e}")))?;
    doc["title"] = value(title);
    doc["description"] = value(settings.description.trim());
    doc["posts_per_page"] = value(i64::try_from(settings.posts_per_page).unwrap_or(10));
    let new_text = doc.to_string();
    let new_config = Config::parse(&config.root, &new_text).map_err(|diagnostics| {
        SettingsError::Invalid(
            diagnostics
                .iter()
                .map(|d| FieldError::new(d.field.as_deref().unwrap_or("config"), &d.message))
                .collect(),
        )
    })?;
    if new_text != text {
        crate::fsx::atomic_write(&path, new_text.as_bytes(), Durability::Synced)?;
    }
    Ok(new_config)
}

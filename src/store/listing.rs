//! Paging and ordering shared by every list the server shows (posts, media,
//! users): one page of a filtered, sorted list, with the total, so a
//! 10,000-post site answers with 50 rows instead of all of them.

use std::str::FromStr;

/// Rows per page unless the client asks for another number.
pub const DEFAULT_LIMIT: usize = 50;
/// The most rows one page may hold.
pub const MAX_LIMIT: usize = 500;

/// Why a list request cannot be answered: names the parameter and what it
/// accepts, so the client can fix the address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{parameter}={value}` is not understood: {expected}")]
pub struct ListError {
    /// The query parameter.
    pub parameter: &'static str,
    /// What it was given.
    pub value: String,
    /// What it takes.
    pub expected: &'static str,
}

impl ListError {
    /// A refusal of `value` for `parameter`.
    pub fn new(parameter: &'static str, value: &str, expected: &'static str) -> Self {
        Self {
            parameter,
            value: value.chars().take(100).collect(),
            expected,
        }
    }
}

/// Which page, and how long pages are. Pages count from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// 1-based page number.
    pub page: usize,
    /// Rows per page, 1 to [`MAX_LIMIT`].
    pub limit: usize,
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            page: 1,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl Paging {
    /// Reads `page` and `limit` as a query string gives them (absent or
    /// empty: the defaults).
    pub fn parse(page: Option<&str>, limit: Option<&str>) -> Result<Self, ListError> {
        let mut paging = Self::default();
        if let Some(text) = page.filter(|t| !t.is_empty()) {
            paging.page = text
                .parse()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| ListError::new("page", text, "a page number from 1"))?;
        }
        if let Some(text) = limit.filter(|t| !t.is_empty()) {
            paging.limit = text
                .parse()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| ListError::new("limit", text, "a number from 1 to 500"))?;
        }
        Ok(paging)
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Smallest first (A–Z, oldest first).
    Asc,
    /// Largest first (Z–A, newest first).
    Desc,
}

impl FromStr for Order {
    type Err = ListError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            _ => Err(ListError::new("order", text, "`asc` or `desc`")),
        }
    }
}

impl Order {
    /// `ordering` as it should stand in this order.
    pub fn apply(self, ordering: std::cmp::Ordering) -> std::cmp::Ordering {
        match self {
            Self::Asc => ordering,
            Self::Desc => ordering.reverse(),
        }
    }
}

/// One page of a list, and how long the whole list is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows in the whole filtered list.
    pub total: usize,
    /// This page's number (may be past the last page: then `items` is empty).
    pub page: usize,
    /// Number of pages (at least 1, so "page 1 of 1" reads right when empty).
    pub pages: usize,
    /// Rows per page.
    pub limit: usize,
}

impl<T> Paged<T> {
    /// The page `paging` names of the already filtered and sorted `items`.
    pub fn of(items: Vec<T>, paging: Paging) -> Self {
        let total = items.len();
        let start = (paging.page - 1).saturating_mul(paging.limit);
        let items: Vec<T> = items.into_iter().skip(start).take(paging.limit).collect();
        Self {
            items,
            total,
            page: paging.page,
            pages: total.div_ceil(paging.limit).max(1),
            limit: paging.limit,
        }
    }
}

/// A query-string value that was given: trimmed, and `None` when empty (a
/// GET form sends every field, filled or not).
pub fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Lowercased search words of `text`: a row matches when it contains all.
pub fn search_terms(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .split_whitespace()
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_split_the_list_and_count_it() {
        let paging = Paging { page: 2, limit: 3 };
        let page = Paged::of((1..=7).collect(), paging);
        assert_eq!(page.items, vec![4, 5, 6]);
        assert_eq!((page.total, page.pages), (7, 3));
        let last = Paged::of((1..=7).collect(), Paging { page: 3, limit: 3 });
        assert_eq!(last.items, vec![7]);
        let past = Paged::of((1..=7).collect(), Paging { page: 9, limit: 3 });
        assert!(past.items.is_empty());
        let empty = Paged::of(Vec::<u8>::new(), Paging::default());
        assert_eq!((empty.total, empty.pages), (0, 1));
    }

    #[test]
    fn paging_parameters_are_checked() {
        assert_eq!(Paging::parse(None, Some("")).unwrap(), Paging::default());
        assert_eq!(
            Paging::parse(Some("3"), Some("10")).unwrap(),
            Paging { page: 3, limit: 10 }
        );
        for (page, limit) in [
            ("0", "10"),
            ("x", "10"),
            ("1", "0"),
            ("1", "501"),
            ("1", "-1"),
        ] {
            let err = Paging::parse(Some(page), Some(limit)).unwrap_err();
            assert!(err.to_string().contains('='), "{err}");
        }
        assert_eq!(
            Paging::parse(Some("1"), Some("9999"))
                .unwrap_err()
                .parameter,
            "limit"
        );
    }

    #[test]
    fn search_terms_are_words_in_lowercase() {
        assert_eq!(search_terms(Some("  Rust  ASYNC ")), vec!["rust", "async"]);
        assert!(search_terms(None).is_empty());
    }
}

//! Post operations shared by the API and the UI: the paged list, create,
//! update with a revision check, delete; who may see and change what.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use serde::Deserialize;

use crate::build::Changes;
use crate::server::error::{ApiError, blocking};
use crate::server::ops::access::may_change;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::store::catalog::{self, ListedPost, PostQuery, PostSort};
use crate::store::listing::{ListError, Order, Paged, Paging, given};
use crate::store::posts::{PostInput, StoredPost};

/// Body of a create or update. On update, absent fields keep their value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostRequest {
    /// Title (required on create).
    pub title: Option<String>,
    /// Markdown body.
    pub body: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Summary.
    pub summary: Option<String>,
    /// Draft flag.
    pub draft: Option<bool>,
    /// Date.
    pub date: Option<String>,
    /// Slug (create only).
    pub slug: Option<String>,
    /// Cover under media/.
    pub cover: Option<String>,
    /// Refused unless it names who the server would choose anyway.
    pub author: Option<String>,
}

impl PostRequest {
    /// The input for the store, with absent fields taken from `current`.
    pub fn input(self, current: Option<&StoredPost>) -> PostInput {
        PostInput {
            title: self
                .title
                .or_else(|| current.map(|c| c.title.clone()))
                .unwrap_or_default(),
            body: self
                .body
                .or_else(|| current.map(|c| c.body.clone()))
                .unwrap_or_default(),
            tags: self
                .tags
                .or_else(|| current.map(|c| c.tags.clone()))
                .unwrap_or_default(),
            summary: self
                .summary
                .or_else(|| current.and_then(|c| c.summary.clone())),
            draft: self.draft.or(current.map(|c| c.draft)).unwrap_or(false),
            date: self.date.or_else(|| current.and_then(|c| c.date.clone())),
            cover: self.cover.or_else(|| current.and_then(|c| c.cover.clone())),
        }
    }
}

/// Whether `user` may see `post` at all: drafts only for their owner and
/// admins (others get 404, as if it did not exist).
pub fn visible(user: &CurrentUser, post: &StoredPost) -> bool {
    !post.draft || may_change(user, &post.authors)
}

/// The query string of a post list (API and dashboard alike); empty
/// values count as absent, so a GET form may send every field.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
pub struct ListParams {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Posts per page (1–500, default 50).
    pub limit: Option<String>,
    /// `date`, `title` or `updated`.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub order: Option<String>,
    /// `draft`, `scheduled` or `published`.
    pub state: Option<String>,
    /// A tag.
    pub tag: Option<String>,
    /// A username.
    pub author: Option<String>,
    /// Words that the title, tags or body must contain.
    pub q: Option<String>,
}

impl ListParams {
    /// The typed query, or which parameter is wrong.
    pub fn query(&self) -> Result<PostQuery, ListError> {
        let sort: PostSort = given(&self.sort).map_or(Ok(PostSort::Date), str::parse)?;
        let natural = if sort == PostSort::Title {
            Order::Asc
        } else {
            Order::Desc
        };
        Ok(PostQuery {
            state: given(&self.state).map(str::parse).transpose()?,
            tag: given(&self.tag).map(String::from),
            author: given(&self.author).map(String::from),
            text: given(&self.q).map(String::from),
            sort,
            order: given(&self.order).map_or(Ok(natural), str::parse)?,
            paging: Paging::parse(given(&self.page), given(&self.limit))?,
        })
    }
}

/// One page of the posts `user` may see that `query` selects, as they
/// stand now: what the API list and the dashboard show.
pub async fn list_page(
    state: &AppState,
    user: &CurrentUser,
    query: PostQuery,
) -> Result<Paged<Arc<ListedPost>>, ApiError> {
    let st = state.clone();
    let user = user.clone();
    blocking(move || {
        let all = st.posts().catalog()?;
        Ok(catalog::query(all, &query, Utc::now(), |p| {
            visible(&user, p)
        }))
    })
    .await?
}

/// Every tag of the posts `user` may see, with how many carry it, most
/// used first: what the editor suggests.
pub async fn tags(state: &AppState, user: &CurrentUser) -> Result<Vec<(String, usize)>, ApiError> {
    let st = state.clone();
    let user = user.clone();
    blocking(move || {
        let all = st.posts().catalog()?;
        let seen = all.iter().filter(|p| visible(&user, &p.post)).map(|p| &**p);
        Ok(catalog::tag_counts(seen))
    })
    .await?
}

/// Loads a post the user may see, or 404.
pub async fn load_visible(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
) -> Result<StoredPost, ApiError> {
    let st = state.clone();
    let post = blocking(move || st.posts().get(&slug)).await??;
    if visible(user, &post) {
        Ok(post)
    } else {
        Err(ApiError::not_found(format!(
            "there is no post `{}`",
            post.slug
        )))
    }
}

fn check_author_field(request: &PostRequest, owner: Option<&str>) -> Result<(), ApiError> {
    match &request.author {
        Some(author) if Some(author.as_str()) != owner => Err(ApiError::forbidden(
            "a post's author is set by the server: it is whoever created the post",
        )),
        _ => Ok(()),
    }
}

/// Creates a post owned by `user`; shared with the HTML editor.
pub async fn create_post(
    state: &AppState,
    user: &CurrentUser,
    request: PostRequest,
) -> Result<StoredPost, ApiError> {
    check_author_field(&request, Some(&user.username))?;
    let slug = request.slug.clone();
    let input = request.input(None);
    let (st, author) = (state.clone(), user.username.clone());
    let post = blocking(move || -> Result<StoredPost, ApiError> {
        if let Ok(name) = crate::accounts::Username::parse(&author) {
            crate::store::profiles::create_default(&st.config(), &name)
                .map_err(ApiError::internal)?;
        }
        Ok(st
            .posts()
            .create(&input, slug.as_deref(), &author, Utc::now().fixed_offset())?)
    })
    .await??;
    state.log(&format!("{} created post {}", user.username, post.slug));
    state
        .audit(
            &user.username,
            "create",
            crate::store::audit::Target::Post,
            &post.slug,
        )
        .await;
    Ok(post)
}

/// The change a save or delete of post `slug` makes: its file is
/// `<slug>.md` or, for posts from other generators, `<slug>.markdown`.
pub fn post_file(slug: &str) -> Changes {
    Changes::Paths(
        crate::build::load::MARKDOWN_EXTENSIONS
            .iter()
            .map(|ext| PathBuf::from("content/posts").join(format!("{slug}.{ext}")))
            .collect(),
    )
}

/// Updates a post at revision `expected` after the permission check;
/// shared with the HTML editor.
pub async fn update_post(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
    expected: String,
    request: PostRequest,
) -> Result<StoredPost, ApiError> {
    let current = load_visible(state, user, slug.clone()).await?;
    if !may_change(user, &current.authors) {
        state.log(&format!(
            "denied: {} may not edit post {}",
            user.username, current.slug
        ));
        return Err(ApiError::forbidden(
            "this post belongs to another author; only they or an admin may change it",
        ));
    }
    check_author_field(&request, current.author.as_deref())?;
    if !crate::accounts::constant_time_eq(&current.revision, &expected) {
        // Also makes the ownership check above hold for the bytes saved over.
        return Err(crate::store::posts::PostError::Stale {
            current: Box::new(current),
        }
        .into());
    }
    if request.slug.as_deref().is_some_and(|s| s != current.slug) {
        return Err(ApiError::invalid(vec![
            crate::store::document::FieldError::new(
                "slug",
                "a post's slug cannot be changed; create a new post instead",
            ),
        ]));
    }
    let input = request.input(Some(&current));
    let (st, actor) = (state.clone(), user.username.clone());
    let post = blocking(move || st.posts().update(&slug, &expected, &input, &actor)).await??;
    state.log(&format!("{} saved post {}", user.username, post.slug));
    state
        .audit(
            &user.username,
            "update",
            crate::store::audit::Target::Post,
            &post.slug,
        )
        .await;
    Ok(post)
}

/// Deletes a post after the permission check; shared with the HTML UI.
pub async fn delete_post(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
    expected: Option<String>,
) -> Result<(), ApiError> {
    let current = load_visible(state, user, slug.clone()).await?;
    if !may_change(user, &current.authors) {
        state.log(&format!(
            "denied: {} may not delete post {}",
            user.username, current.slug
        ));
        return Err(ApiError::forbidden(
            "this post belongs to another author; only they or an admin may delete it",
        ));
    }
    let (st, actor) = (state.clone(), user.username.clone());
    let not_committed =
        blocking(move || st.posts().delete(&slug, expected.as_deref(), &actor)).await??;
    if let Some(error) = not_committed {
        state.log(&format!("error: post {}: {error}", current.slug));
    }
    state.log(&format!("{} deleted post {}", user.username, current.slug));
    state
        .audit(
            &user.username,
            "delete",
            crate::store::audit::Target::Post,
            &current.slug,
        )
        .await;
    Ok(())
}

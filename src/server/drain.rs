//! Keeps connections usable after a request is refused before its body
//! was read (unknown route, wrong method, missing CSRF token, no session).
//!
//! hyper gives an unread request body one chance to be drained and
//! otherwise closes the connection after the response. A client that had
//! already put that connection back in its pool then sees its next
//! request fail with "peer disconnected". So every request body is
//! tracked: if the handler drops it unread, the body is handed back here,
//! read to the end (within the route's limit and a short time), and only
//! if that fails is the response marked `Connection: close`, which tells
//! the client not to reuse the connection.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

/// Longest time spent reading the rest of a refused request's body.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Where a request body goes back to when a handler drops it unread.
type Slot = Arc<Mutex<Option<Body>>>;

/// A request body that returns itself to its [`Slot`] when dropped before
/// its end.
struct Tracked {
    inner: Option<Body>,
    slot: Slot,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take()
            && !inner.is_end_stream()
            && let Ok(mut slot) = self.slot.lock()
        {
            *slot = Some(inner);
        }
    }
}

/// Runs the request, then reads whatever of its body the handler left
/// unread, up to `limit` bytes; marks the response `Connection: close`
/// when that cannot be done.
pub(super) async fn finish_reading(request: Request, next: Next, limit: usize) -> Response {
    let slot: Slot = Arc::new(Mutex::new(None));
    let request = request.map(|body| {
        if body.is_end_stream() {
            body
        } else {
            Body::new(Tracked {
                inner: Some(body),
                slot: slot.clone(),
            })
        }
    });
    let mut response = next.run(request).await;
    let unread = slot.lock().ok().and_then(|mut slot| slot.take());
    if let Some(body) = unread {
        let drained = tokio::time::timeout(DRAIN_TIME, axum::body::to_bytes(body, limit)).await;
        if !matches!(drained, Ok(Ok(_))) {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
    }
    response
}

//! The dashboard's static files (`talos up --dashboard`), served on the API listener
//! beside the API. They carry no data and need no token: the page reads the JSON API
//! with the token it is given in its URL's fragment (which browsers never send to a
//! server), so the data stays behind the same token. Plain ES modules and a pinned
//! chart library (uPlot 1.6.32, MIT, vendored from npm; `browser-tests/` pins the same
//! version and a test checks the copy), so no build toolchain is needed to run it.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!("../../dashboard/index.html");
const APP: &str = include_str!("../../dashboard/app.js");
const VERIFY: &str = include_str!("../../dashboard/verify.js");
const STYLE: &str = include_str!("../../dashboard/style.css");
const UPLOT: &str = include_str!("../../dashboard/vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../dashboard/vendor/uPlot.min.css");

fn asset(kind: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
            ),
        ],
        body,
    )
}

/// The dashboard's routes, under `/dashboard`.
pub fn routes() -> Router {
    Router::new()
        .route(
            "/dashboard",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/dashboard/app.js",
            get(|| async { asset("text/javascript", APP) }),
        )
        .route(
            "/dashboard/verify.js",
            get(|| async { asset("text/javascript", VERIFY) }),
        )
        .route(
            "/dashboard/style.css",
            get(|| async { asset("text/css", STYLE) }),
        )
        .route(
            "/dashboard/uplot.js",
            get(|| async { asset("text/javascript", UPLOT) }),
        )
        .route(
            "/dashboard/uplot.css",
            get(|| async { asset("text/css", UPLOT_CSS) }),
        )
}

//! The upload page at `/`: one plain HTML file with its own CSS and script (nothing loaded
//! from elsewhere), native form controls with labels (usable with the keyboard and a screen
//! reader), a single column that reads on a phone. The script sends the key as a header
//! (forms cannot), polls the job and opens the report from a blob URL.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("page.html");

/// The page allows only its own inline script and style and requests to this origin.
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
     connect-src 'self'; img-src 'self' data: blob:; frame-src blob:; form-action 'self'; \
     base-uri 'none'";

pub async fn upload_page() -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::PAGE;

    #[test]
    fn page_loads_nothing_from_elsewhere_and_labels_every_control() {
        for external in ["http://", "https://", "//cdn", "<link", "src=\""] {
            assert!(!PAGE.contains(external), "the page refers to {external}");
        }
        // Every input has a label pointing at it.
        for id in [
            "key",
            "table",
            "metadata",
            "tree",
            "group",
            "drugs",
            "seed",
            "permutations",
        ] {
            assert!(PAGE.contains(&format!("id=\"{id}\"")), "no control {id}");
            assert!(PAGE.contains(&format!("for=\"{id}\"")), "no label for {id}");
        }
        assert!(PAGE.contains("name=\"viewport\""), "phone layout");
        assert!(PAGE.contains("aria-live"), "status is announced");
    }
}

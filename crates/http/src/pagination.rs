//! Page-number pagination with the list envelope `{"count","next","previous","results"}`.
//! `next`/`previous` are absolute URLs on the path prefix the client used, keeping the other
//! query parameters.

use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: i64 = 25;
pub const MAX_PAGE_SIZE: i64 = 200;

/// Common list parameters; resources add their own filters next to these.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    pub search: Option<String>,
    pub ordering: Option<String>,
}

impl ListQuery {
    /// The words of `search`; each must match one of the resource's search fields.
    pub fn search_words(&self) -> Vec<String> {
        self.search
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// `ordering` as `(field, descending)` pairs; a field outside `allowed` is a 400.
    pub fn ordering(&self, allowed: &[&str]) -> Result<Vec<(String, bool)>, ApiError> {
        let mut fields = Vec::new();
        for item in self.ordering.as_deref().unwrap_or_default().split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (name, descending) = match item.strip_prefix('-') {
                Some(name) => (name, true),
                None => (item, false),
            };
            if !allowed.contains(&name) {
                return Err(ApiError::field(
                    "ordering",
                    format!("Cannot order by '{name}'. Choices: {}.", allowed.join(", ")),
                ));
            }
            fields.push((name.to_string(), descending));
        }
        Ok(fields)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: i64,
    pub page_size: i64,
}

impl PageRequest {
    /// Reads `page` and `page_size` from the query string. A page that is not a positive number
    /// is a 404 ("Invalid page."); a bad `page_size` is a 400; sizes above the maximum are clamped.
    pub fn from_request(req: &HttpRequest) -> Result<Self, ApiError> {
        let mut page = 1;
        let mut page_size = DEFAULT_PAGE_SIZE;
        for (key, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
            match key.as_ref() {
                "page" => {
                    page = match value.parse::<i64>() {
                        Ok(p) if p >= 1 => p,
                        _ => return Err(ApiError::NotFound("Invalid page.".into())),
                    }
                }
                "page_size" => {
                    page_size = match value.parse::<i64>() {
                        Ok(s) if s >= 1 => s.min(MAX_PAGE_SIZE),
                        _ => {
                            return Err(ApiError::field(
                                "page_size",
                                format!("Must be a whole number from 1 to {MAX_PAGE_SIZE}."),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Self { page, page_size })
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.page_size)
    }

    pub fn limit(&self) -> i64 {
        self.page_size
    }
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

impl<T> Page<T> {
    /// Builds the envelope; a page past the end (other than an empty first page) is a 404.
    pub fn new(
        req: &HttpRequest,
        request: PageRequest,
        count: i64,
        results: Vec<T>,
    ) -> Result<Self, ApiError> {
        if request.page > 1 && request.offset() >= count {
            return Err(ApiError::NotFound("Invalid page.".into()));
        }
        let has_next = request.offset() + (results.len() as i64) < count;
        let next = has_next.then(|| page_url(req, request.page + 1));
        let previous = (request.page > 1).then(|| page_url(req, request.page - 1));
        Ok(Self {
            count,
            next,
            previous,
            results,
        })
    }
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// The absolute URL the client used, with `page` replaced (dropped for page 1).
fn page_url(req: &HttpRequest, page: i64) -> String {
    let info = req.connection_info();
    let scheme = header(req, "x-forwarded-proto")
        .unwrap_or(info.scheme())
        .to_string();
    let host = header(req, "x-forwarded-host")
        .unwrap_or(info.host())
        .to_string();
    let mut path = req.path().to_string();
    // The gateway serves /api/<resource>/ as an alias of /api/v1/<resource>/ and tells us which
    // prefix the client used.
    if let Some(prefix) = header(req, "x-forwarded-prefix")
        && prefix == "/api"
        && let Some(rest) = path.strip_prefix("/api/v1/")
    {
        path = format!("/api/{rest}");
    }
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        if key != "page" {
            query.append_pair(&key, &value);
        }
    }
    if page > 1 {
        query.append_pair("page", &page.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        format!("{scheme}://{host}{path}")
    } else {
        format!("{scheme}://{host}{path}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn parses_and_clamps() {
        let req = TestRequest::get()
            .uri("/api/v1/assets/?page=2&page_size=500")
            .to_http_request();
        assert_eq!(
            PageRequest::from_request(&req).unwrap(),
            PageRequest {
                page: 2,
                page_size: 200
            }
        );
        let req = TestRequest::get().uri("/api/v1/assets/").to_http_request();
        assert_eq!(
            PageRequest::from_request(&req).unwrap(),
            PageRequest {
                page: 1,
                page_size: 25
            }
        );
        let req = TestRequest::get()
            .uri("/api/v1/assets/?page_size=0")
            .to_http_request();
        assert!(matches!(
            PageRequest::from_request(&req),
            Err(ApiError::Validation(_))
        ));
        let req = TestRequest::get()
            .uri("/api/v1/assets/?page_size=abc")
            .to_http_request();
        assert!(matches!(
            PageRequest::from_request(&req),
            Err(ApiError::Validation(_))
        ));
        let req = TestRequest::get()
            .uri("/api/v1/assets/?page=0")
            .to_http_request();
        assert!(matches!(
            PageRequest::from_request(&req),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn links_keep_parameters_and_the_client_prefix() {
        let req = TestRequest::get()
            .uri("/api/v1/assets/?search=sw&page=2&page_size=10")
            .insert_header(("host", "docs.example.com"))
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header(("x-forwarded-prefix", "/api"))
            .to_http_request();
        let request = PageRequest::from_request(&req).unwrap();
        let page = Page::new(&req, request, 35, vec![(); 10]).unwrap();
        assert_eq!(
            page.next.as_deref(),
            Some("https://docs.example.com/api/assets/?search=sw&page_size=10&page=3")
        );
        assert_eq!(
            page.previous.as_deref(),
            Some("https://docs.example.com/api/assets/?search=sw&page_size=10")
        );
        let req = TestRequest::get()
            .uri("/api/v1/assets/?page=5&page_size=10")
            .to_http_request();
        let request = PageRequest::from_request(&req).unwrap();
        assert!(matches!(
            Page::new(&req, request, 35, Vec::<()>::new()),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn empty_first_page_is_fine() {
        let req = TestRequest::get().uri("/api/v1/assets/").to_http_request();
        let page = Page::new(
            &req,
            PageRequest::from_request(&req).unwrap(),
            0,
            Vec::<()>::new(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&page).unwrap(),
            r#"{"count":0,"next":null,"previous":null,"results":[]}"#
        );
    }
}

//! HTTP plumbing shared by every service: the API error shape (mapped in one place), the
//! request-id middleware, the signed principal and its extractor, list pagination, and the
//! health, readiness and metrics endpoints.

pub mod error;
pub mod health;
pub mod input;
pub mod metrics;
pub mod pagination;
pub mod principal;
mod principal_roles;
pub mod reader;
pub mod request_id;

pub use error::{ApiError, ValidationErrors, json_config, not_found_handler, query_config};
pub use pagination::{ListQuery, Page, PageRequest};
pub use principal::{Principal, PrincipalError, PrincipalKey, Role};
pub use principal_roles::all_permissions;
pub use request_id::{RequestId, current_request_id, request_context};

//! Breach detection against the Pwned Passwords range API.

pub mod hibp;
pub mod worker;

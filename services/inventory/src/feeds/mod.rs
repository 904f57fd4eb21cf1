//! CVE feeds and matching: the NVD CVE API 2.0 (incremental by last-modified windows) and the
//! CISA KEV catalogue, synchronised on a schedule or on request, and the matcher that turns
//! CVEs into findings for the assets whose data or CVEs changed.

pub mod client;
pub mod matching;
pub mod sync;
pub mod worker;

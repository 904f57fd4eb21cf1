//! Event contracts shared by every service. The wire format is the protobuf `Envelope` from
//! `proto/clientstor/events/v1`; webhook JSON is rendered from it by [`webhook_data`].

mod envelope;
pub mod trace;
pub mod types;

#[allow(clippy::all, missing_docs, rust_2018_idioms)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/clientstor.events.v1.rs"));
}

pub use envelope::{DecodeError, decode, encode, new_envelope, subject, webhook_data};
pub use v1::{Envelope, Organization, envelope::Payload};

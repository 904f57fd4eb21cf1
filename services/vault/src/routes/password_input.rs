//! Reading and checking vault entry input. Secrets are write-only: absent keeps the stored
//! value, `null` or an empty string clears it, a string replaces it.

use clientstor_http::ValidationErrors;
use clientstor_http::reader::Reader;
use clientstor_runtime::openapi::{Field, Kind, Model};
use serde_json::{Map, Value};

use crate::db::passwords::PasswordFields;
use crate::otp::OtpSecret;

pub const PASSWORD_TYPES: &[&str] = &[
    "website",
    "server",
    "database",
    "email",
    "network_device",
    "wifi",
    "vpn",
    "ssh_key",
    "api_key",
    "windows_ad",
    "software_license",
    "ftp",
    "credit_card",
    "otp",
    "other",
];

/// What the breach check found; `unknown` until a password was checked.
pub const BREACH_STATUSES: &[&str] = &["unknown", "safe", "breached"];

/// The vault entry representation, for the API description and the browsable forms. The
/// `password` key of the answers (masked, or plain with `?reveal=true`) is in
/// `PasswordDetail`: lists leave it out.
pub const MODEL: Model = Model {
    name: "Password",
    noun: "password",
    about: "Vault entries: credentials with sealed passwords and OTP secrets, reveals logged",
    record: true,
    fields: &[
        Field::rw("title", Kind::String)
            .required()
            .about("At most 200 characters"),
        Field::rw("username", Kind::String),
        Field::rw("url", Kind::String),
        Field::rw("notes", Kind::String),
        Field::rw("password_type", Kind::Enum(PASSWORD_TYPES)).about("`other` if not given"),
        Field::wo("password", Kind::String).nullable().about(
            "Absent keeps the stored password, null or \"\" clears it, a string (kept exactly, at most 10000 characters) replaces it",
        ),
        Field::wo("otp_secret", Kind::String).nullable().about(
            "A base32 TOTP secret or an otpauth://totp/ URI; absent keeps, null or \"\" clears",
        ),
        Field::ro("has_password", Kind::Boolean),
        Field::ro("has_otp", Kind::Boolean),
        Field::rw("otp_issuer", Kind::String)
            .nullable()
            .about("Taken from the otpauth URI when not given"),
        Field::ro("strength_score", Kind::Integer)
            .nullable()
            .about("0 (weak) to 4 (strong); null without a password"),
        Field::ro("password_changed_at", Kind::DateTime).nullable(),
        Field::rw("expires_at", Kind::DateTime)
            .nullable()
            .about("RFC 3339, or a date for midnight UTC"),
        Field::ro("is_expired", Kind::Boolean),
        Field::rw("tags", Kind::Strings),
        Field::rw("custom_fields", Kind::Object),
        Field::ro("breach", Kind::Model("PasswordBreach"))
            .about("The last check against the Pwned Passwords corpus"),
        Field::ro("created_by", Kind::Integer).nullable(),
    ],
    search: &["title", "username", "url", "notes"],
};

#[derive(Debug, Clone)]
pub enum SecretInput<T> {
    Absent,
    Clear,
    Set(T),
}

#[derive(Debug)]
pub struct Input {
    pub fields: PasswordFields,
    pub password: SecretInput<String>,
    pub otp: SecretInput<OtpSecret>,
}

fn secret(r: &mut Reader<'_>, field: &str, max: usize) -> SecretInput<String> {
    match r.map.get(field) {
        None => SecretInput::Absent,
        Some(Value::Null) => SecretInput::Clear,
        Some(Value::String(s)) if s.is_empty() => SecretInput::Clear,
        Some(Value::String(s)) if s.chars().count() > max => {
            r.fail(
                field,
                format!("Ensure this field has no more than {max} characters."),
            );
            SecretInput::Absent
        }
        // Kept exactly as given: spaces can be part of a password.
        Some(Value::String(s)) => SecretInput::Set(s.clone()),
        Some(_) => {
            r.fail(field, "Not a valid string.");
            SecretInput::Absent
        }
    }
}

pub fn parse(map: &Map<String, Value>) -> Result<Input, ValidationErrors> {
    let mut r = Reader::new(map);
    let title = r.text("title", 200);
    if title.is_none() && !r.errors.contains_key("title") {
        r.fail("title", "This field is required.");
    }
    let password = secret(&mut r, "password", 10_000);
    let otp = match secret(&mut r, "otp_secret", 2_000) {
        SecretInput::Set(text) => match OtpSecret::parse(&text) {
            Ok(parsed) => SecretInput::Set(parsed),
            Err(message) => {
                r.fail("otp_secret", message);
                SecretInput::Absent
            }
        },
        SecretInput::Clear => SecretInput::Clear,
        SecretInput::Absent => SecretInput::Absent,
    };
    let issuer_from_uri = match &otp {
        SecretInput::Set(parsed) => parsed.issuer.clone(),
        _ => None,
    };
    let fields = PasswordFields {
        title: title.unwrap_or_default(),
        username: r.text("username", 255).unwrap_or_default(),
        url: r.text("url", 2_000).unwrap_or_default(),
        notes: r.text("notes", 100_000).unwrap_or_default(),
        password_type: r.choice("password_type", PASSWORD_TYPES, "other"),
        otp_issuer: r.text("otp_issuer", 200).or(issuer_from_uri),
        expires_at: r.datetime("expires_at"),
        tags: r.tags("tags"),
        custom_fields: r.object("custom_fields"),
    };
    if r.errors.is_empty() {
        Ok(Input {
            fields,
            password,
            otp,
        })
    } else {
        Err(r.errors)
    }
}

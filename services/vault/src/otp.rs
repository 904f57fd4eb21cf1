//! OTP secrets: a base32 secret or an `otpauth://totp/…` URI with algorithm, digits and period,
//! normalised to one canonical URI (which is what gets sealed), and RFC 6238 codes from it.

use totp_rs::{Algorithm, Builder, Secret, Totp};

/// A parsed OTP secret.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpSecret {
    secret: Vec<u8>,
    pub algorithm: &'static str,
    pub digits: u8,
    pub period: u64,
    pub issuer: Option<String>,
}

impl std::fmt::Debug for OtpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OtpSecret({} {} digits {}s)",
            self.algorithm, self.digits, self.period
        )
    }
}

/// The current code of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub code: String,
    pub time_remaining: u64,
}

fn base32(text: &str) -> Result<Vec<u8>, String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .trim_end_matches('=')
        .to_ascii_uppercase();
    let bytes = Secret::try_from_base32(&cleaned)
        .map_err(|_| "The secret is not valid base32.".to_string())?;
    let bytes = bytes.as_ref().to_vec();
    // 80 bits is what many services hand out; RFC 4226 recommends 160.
    if bytes.len() < 10 {
        return Err("The secret must be at least 80 bits (16 base32 characters).".into());
    }
    Ok(bytes)
}

impl OtpSecret {
    /// Parses what a client sends: a base32 secret or an `otpauth://totp/` URI.
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        if !input.to_ascii_lowercase().starts_with("otpauth://") {
            return Ok(Self {
                secret: base32(input)?,
                algorithm: "SHA1",
                digits: 6,
                period: 30,
                issuer: None,
            });
        }
        let url = url::Url::parse(input).map_err(|_| "Not a valid otpauth URI.".to_string())?;
        if url.host_str().map(str::to_ascii_lowercase).as_deref() != Some("totp") {
            return Err("Only otpauth://totp/ URIs are supported.".into());
        }
        let mut parsed = Self {
            secret: Vec::new(),
            algorithm: "SHA1",
            digits: 6,
            period: 30,
            issuer: None,
        };
        let mut secret = None;
        for (key, value) in url.query_pairs() {
            match key.to_ascii_lowercase().as_str() {
                "secret" => secret = Some(base32(&value)?),
                "algorithm" => {
                    parsed.algorithm = match value.to_ascii_uppercase().as_str() {
                        "SHA1" => "SHA1",
                        "SHA256" => "SHA256",
                        "SHA512" => "SHA512",
                        _ => return Err("algorithm must be SHA1, SHA256 or SHA512.".into()),
                    }
                }
                "digits" => {
                    parsed.digits = value
                        .parse()
                        .ok()
                        .filter(|d| (6..=8).contains(d))
                        .ok_or("digits must be 6, 7 or 8.")?
                }
                "period" => {
                    parsed.period = value
                        .parse()
                        .ok()
                        .filter(|p| (1..=300).contains(p))
                        .ok_or("period must be 1 to 300 seconds.")?
                }
                "issuer" if !value.is_empty() => parsed.issuer = Some(value.into_owned()),
                _ => {}
            }
        }
        parsed.secret = secret.ok_or("The URI has no secret.")?;
        if parsed.issuer.is_none() {
            // The label's "Issuer:account" prefix.
            let label = url.path().trim_start_matches('/');
            let label = percent_decode(label);
            if let Some((issuer, _)) = label.split_once(':') {
                parsed.issuer = Some(issuer.trim().to_string()).filter(|i| !i.is_empty());
            }
        }
        Ok(parsed)
    }

    /// The canonical URI: what is sealed and parsed back.
    pub fn to_uri(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("secret", &Secret::from(self.secret.clone()).to_base32())
            .append_pair("algorithm", self.algorithm)
            .append_pair("digits", &self.digits.to_string())
            .append_pair("period", &self.period.to_string());
        if let Some(issuer) = &self.issuer {
            query.append_pair("issuer", issuer);
        }
        format!("otpauth://totp/?{}", query.finish())
    }

    fn totp(&self) -> Totp {
        let algorithm = match self.algorithm {
            "SHA256" => Algorithm::SHA256,
            "SHA512" => Algorithm::SHA512,
            _ => Algorithm::SHA1,
        };
        // Digits, period and length were checked when parsing; 80-bit secrets are accepted.
        Builder::new()
            .with_algorithm(algorithm)
            .with_digits(self.digits)
            .with_step_duration(self.period)
            .with_secret(Secret::from(self.secret.clone()))
            .build_noncompliant()
    }

    /// The code at Unix time `now`, and the seconds it stays valid.
    pub fn code_at(&self, now: u64) -> Code {
        Code {
            code: self.totp().generate(now).to_string(),
            time_remaining: self.period - now % self.period,
        }
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(secret: &[u8], algorithm: &str) -> String {
        format!(
            "otpauth://totp/ACME:jo?secret={}&algorithm={algorithm}&digits=8&period=30",
            Secret::from(secret.to_vec()).to_base32()
        )
    }

    /// RFC 6238 appendix B.
    #[test]
    fn rfc_6238_test_vectors() {
        let sha1 = b"12345678901234567890".to_vec();
        let sha256 = b"12345678901234567890123456789012".to_vec();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".to_vec();
        let vectors: &[(u64, &str, &str, &str)] = &[
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        let secrets = [
            OtpSecret::parse(&uri(&sha1, "SHA1")).unwrap(),
            OtpSecret::parse(&uri(&sha256, "SHA256")).unwrap(),
            OtpSecret::parse(&uri(&sha512, "SHA512")).unwrap(),
        ];
        assert_eq!(secrets[0].issuer.as_deref(), Some("ACME"));
        for (time, a, b, c) in vectors {
            for (secret, expected) in secrets.iter().zip([a, b, c]) {
                assert_eq!(&secret.code_at(*time).code, expected, "{time} {secret:?}");
            }
        }
        assert_eq!(secrets[0].code_at(59).time_remaining, 1);
    }

    #[test]
    fn plain_base32_and_round_trip() {
        let plain = OtpSecret::parse("jbsw y3dp ehpk 3pxp").unwrap();
        assert_eq!(
            (plain.algorithm, plain.digits, plain.period),
            ("SHA1", 6, 30)
        );
        assert_eq!(OtpSecret::parse(&plain.to_uri()).unwrap(), plain);
        assert_eq!(plain.code_at(0).code.len(), 6);
        assert!(OtpSecret::parse("not base32 at all!").is_err());
        assert!(
            OtpSecret::parse("JBSWY3DP").is_err(),
            "40 bits is too short"
        );
        assert!(OtpSecret::parse("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP").is_err());
        assert!(OtpSecret::parse("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=9").is_err());
        assert!(!format!("{plain:?}").contains("JBSW"));
    }
}

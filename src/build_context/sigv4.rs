//! AWS Signature Version 4 for requests to an S3-compatible store: the
//! `Authorization` header of a request whose payload is sent in one piece.
//!
//! Only what the object store needs: no query-string (presigned) signing,
//! no chunked (`aws-chunked`) payload signing.

use std::fmt::Write as _;
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The payload hash of a request whose body is not signed.
pub(crate) const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The keys a request is signed with.
pub(crate) struct Credentials<'a> {
    pub(crate) access_key: &'a str,
    pub(crate) secret_key: &'a str,
}

/// A request to sign, already in canonical form where it matters.
pub(crate) struct Unsigned<'a> {
    pub(crate) method: &'a str,
    /// The URI-encoded path, as sent (every segment encoded with
    /// [`crate::transport::request::SEGMENT`], which is SigV4's encoding).
    pub(crate) path: &'a str,
    /// The canonical query string (empty when there is none).
    pub(crate) query: &'a str,
    /// Every header to sign, `host` and `x-amz-date` included, each sent
    /// with exactly this value.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body, or [`UNSIGNED_PAYLOAD`].
    pub(crate) payload_hash: &'a str,
}

/// The `Authorization` header of `req`, signed for `service` in `region`
/// at `amz_date` (`YYYYMMDDTHHMMSSZ`, also sent as `x-amz-date`).
pub(crate) fn authorization(
    req: &Unsigned<'_>,
    creds: &Credentials<'_>,
    region: &str,
    service: &str,
    amz_date: &str,
) -> String {
    let (canonical, signed_headers) = canonical_request(req);
    let scope = scope(amz_date, region, service);
    let string_to_sign = string_to_sign(amz_date, &scope, &canonical);
    let signature = signature(creds.secret_key, &scope, &string_to_sign);
    format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key
    )
}

/// The canonical request and its `SignedHeaders` list: header names in
/// lower case and sorted, values trimmed with inner spaces collapsed.
fn canonical_request(req: &Unsigned<'_>) -> (String, String) {
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(name, value)| {
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            (name.to_ascii_lowercase(), value)
        })
        .collect();
    headers.sort();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let mut canonical = format!("{}\n{}\n{}\n", req.method, req.path, req.query);
    for (name, value) in &headers {
        let _ = writeln!(canonical, "{name}:{value}");
    }
    let _ = write!(canonical, "\n{signed_headers}\n{}", req.payload_hash);
    (canonical, signed_headers)
}

/// `<date>/<region>/<service>/aws4_request`.
fn scope(amz_date: &str, region: &str, service: &str) -> String {
    let date = &amz_date[..amz_date.len().min(8)];
    format!("{date}/{region}/{service}/aws4_request")
}

fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let hash = sha256_hex(canonical_request.as_bytes());
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{hash}")
}

/// Hex HMAC of `string_to_sign` with the key derived from `secret_key`
/// through each part of `scope` (date, region, service, `aws4_request`).
fn signature(secret_key: &str, scope: &str, string_to_sign: &str) -> String {
    let mut key = format!("AWS4{secret_key}").into_bytes();
    for part in scope.split('/') {
        key = hmac(&key, part);
    }
    hex(&hmac(&key, string_to_sign))
}

/// `time` as `YYYYMMDDTHHMMSSZ` (UTC).
pub(crate) fn amz_date(time: SystemTime) -> String {
    let t = crate::transport::date::utc(time);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// Lower-case hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::build_context::tests::aws_uri_encode;
    use crate::transport::request::encode_segment;

    // The "GET Object" and "PUT Object" examples of the Amazon S3 API
    // Reference, "Signature Calculations for the Authorization Header:
    // Transferring Payload in a Single Chunk (AWS Signature Version 4)"
    // (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html),
    // with its example keys.
    const EXAMPLE: Credentials<'static> = Credentials {
        access_key: "AKIAIOSFODNN7EXAMPLE",
        secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    };
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const DATE: &str = "20130524T000000Z";

    /// Every step of signing `req` with the example keys in us-east-1.
    fn steps(req: &Unsigned<'_>) -> (String, String, String, String) {
        let (canonical, _) = canonical_request(req);
        let scope = scope(DATE, "us-east-1", "s3");
        let sts = string_to_sign(DATE, &scope, &canonical);
        let signature = signature(EXAMPLE.secret_key, &scope, &sts);
        let header = authorization(req, &EXAMPLE, "us-east-1", "s3", DATE);
        (canonical, sts, signature, header)
    }

    #[test]
    fn aws_get_object_example() {
        let (canonical, sts, signature, header) = steps(&Unsigned {
            method: "GET",
            path: "/test.txt",
            query: "",
            headers: &[
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", DATE),
            ],
            payload_hash: EMPTY_SHA256,
        });
        assert_eq!(
            canonical,
            "GET\n/test.txt\n\n\
             host:examplebucket.s3.amazonaws.com\n\
             range:bytes=0-9\n\
             x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             x-amz-date:20130524T000000Z\n\n\
             host;range;x-amz-content-sha256;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sts,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
             7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        );
        assert_eq!(
            signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        // AWS prints the header without spaces after the commas; S3 takes
        // both forms, and the AWS SDKs send this one.
        assert_eq!(
            header,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn aws_put_object_example() {
        let payload = sha256_hex(b"Welcome to Amazon S3.");
        assert_eq!(
            payload,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let path = format!("/{}", encode_segment("test$file.text"));
        let (canonical, sts, signature, header) = steps(&Unsigned {
            method: "PUT",
            path: &path,
            query: "",
            headers: &[
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-date", DATE),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", &payload),
            ],
            payload_hash: &payload,
        });
        assert_eq!(
            canonical,
            format!(
                "PUT\n/test%24file.text\n\n\
                 date:Fri, 24 May 2013 00:00:00 GMT\n\
                 host:examplebucket.s3.amazonaws.com\n\
                 x-amz-content-sha256:{payload}\n\
                 x-amz-date:20130524T000000Z\n\
                 x-amz-storage-class:REDUCED_REDUNDANCY\n\n\
                 date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n\
                 {payload}"
            )
        );
        assert_eq!(
            sts,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
             9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"
        );
        assert_eq!(
            signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
        assert!(header.ends_with(
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, \
             Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        ));
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        let sign = |value: &str| {
            steps(&Unsigned {
                method: "HEAD",
                path: "/",
                query: "",
                headers: &[("X-Amz-Meta-A", value)],
                payload_hash: UNSIGNED_PAYLOAD,
            })
        };
        let (canonical, _, a, _) = sign("  a   b ");
        let (_, _, b, _) = sign("a b");
        assert!(canonical.contains("\nx-amz-meta-a:a b\n"), "{canonical}");
        assert!(canonical.ends_with("\nUNSIGNED-PAYLOAD"));
        assert_eq!(a, b);
    }

    #[test]
    fn the_crate_s_one_segment_encoding_is_sigv4_s() {
        assert_eq!(
            encode_segment("a-Z_0.~/ b:@é$"),
            "a-Z_0.~%2F%20b%3A%40%C3%A9%24"
        );
        let every_char: String = (1u32..0x800).filter_map(char::from_u32).collect();
        for text in [
            every_char.as_str(),
            "日本 🦀",
            "%2F%25",
            "a+b=c&d;e,f'g(h)!*",
        ] {
            assert_eq!(encode_segment(text), aws_uri_encode(text), "{text:?}");
        }
    }

    #[test]
    fn dates_are_utc_basic_format() {
        let at = |secs| amz_date(std::time::UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(1_369_353_600), "20130524T000000Z");
        assert_eq!(at(951_782_400), "20000229T000000Z");
        assert_eq!(at(4_107_542_399), "21000228T235959Z");
        assert_eq!(at(0), "19700101T000000Z");
        assert_eq!(at(1_700_003_723), "20231114T231523Z");
    }
}

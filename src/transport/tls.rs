//! The TLS trust of a client, one description for every connection: the
//! bundled web PKI roots by default, plus extra CA certificates, or the
//! platform's verifier. From it come ureq's TLS configuration (REST calls)
//! and a rustls configuration with the same roots and the same crypto
//! provider (WebSocket connections), each built once per client.

use std::fmt;
use std::sync::Arc;
#[cfg(feature = "websocket")]
use std::sync::OnceLock;

use rustls::pki_types::CertificateDer;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::config::TlsSettings;
use crate::error::{Error, Result};

/// Which certificates a server's chain must end in.
#[derive(Clone, Debug)]
enum Roots {
    /// The roots of `webpki-roots` (Mozilla's root program), as ureq's.
    WebPki,
    /// The same roots (from `webpki-root-certs`, the same list as whole
    /// certificates) and the extra ones.
    WithExtra(Arc<Vec<Certificate<'static>>>),
    /// The platform's verifier (`rustls-platform-verifier`).
    Platform,
}

/// See the module documentation.
pub(crate) struct Tls {
    roots: Roots,
    extra: usize,
    ureq: TlsConfig,
    #[cfg(feature = "websocket")]
    rustls: OnceLock<std::result::Result<Arc<rustls::ClientConfig>, String>>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let roots = match self.roots {
            Roots::WebPki => "bundled web PKI roots",
            Roots::WithExtra(_) => "bundled web PKI roots and extra certificates",
            Roots::Platform => "platform verifier",
        };
        f.debug_struct("Tls")
            .field("roots", &roots)
            .field("extra_certificates", &self.extra)
            .finish()
    }
}

impl Tls {
    /// Checks `settings` and describes the trust they ask for. Every extra
    /// certificate must parse as a trust anchor.
    pub(crate) fn new(settings: &TlsSettings) -> Result<Self> {
        let mut extra = Vec::new();
        for (i, pem) in settings.extra_roots_pem.iter().enumerate() {
            let before = extra.len();
            for item in ureq::tls::parse_pem(pem) {
                match item {
                    Ok(PemItem::Certificate(cert)) => extra.push(cert),
                    Ok(_) => {}
                    Err(e) => {
                        return Err(Error::Config(format!(
                            "root certificates (PEM #{}) do not parse: {e}",
                            i + 1
                        )))
                    }
                }
            }
            if extra.len() == before {
                return Err(Error::Config(format!(
                    "root certificates (PEM #{}) hold no CERTIFICATE block",
                    i + 1
                )));
            }
        }
        let mut check = rustls::RootCertStore::empty();
        for (n, cert) in extra.iter().enumerate() {
            check.add(CertificateDer::from(cert.der())).map_err(|e| {
                Error::Config(format!("root certificate #{} is not usable: {e}", n + 1))
            })?;
        }
        let count = extra.len();
        let roots = match (settings.platform_verifier, extra.is_empty()) {
            (true, false) => {
                return Err(Error::Config(
                    "extra root certificates cannot be combined with the platform verifier: add \
                     them to the system's trust store, or do without the platform verifier"
                        .into(),
                ))
            }
            (true, true) => Roots::Platform,
            (false, true) => Roots::WebPki,
            (false, false) => {
                let mut all: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                    .iter()
                    .map(|der| Certificate::from_der(der.as_ref()).to_owned())
                    .collect();
                all.extend(extra);
                Roots::WithExtra(Arc::new(all))
            }
        };
        let ureq_roots = match &roots {
            Roots::WebPki => RootCerts::WebPki,
            Roots::WithExtra(all) => RootCerts::Specific(all.clone()),
            Roots::Platform => RootCerts::PlatformVerifier,
        };
        Ok(Tls {
            ureq: TlsConfig::builder().root_certs(ureq_roots).build(),
            roots,
            extra: count,
            #[cfg(feature = "websocket")]
            rustls: OnceLock::new(),
        })
    }

    /// The TLS configuration of ureq's agent.
    pub(crate) fn ureq_config(&self) -> TlsConfig {
        self.ureq.clone()
    }

    /// The rustls configuration of connections made outside ureq, built on
    /// first use: the same roots, and the crypto provider ureq would pick.
    #[cfg(feature = "websocket")]
    pub(crate) fn rustls_config(&self) -> Result<Arc<rustls::ClientConfig>> {
        self.rustls
            .get_or_init(|| self.build_rustls().map_err(|e| e.to_string()))
            .clone()
            .map_err(|e| Error::Config(format!("TLS configuration: {e}")))
    }

    #[cfg(feature = "websocket")]
    fn build_rustls(&self) -> std::result::Result<Arc<rustls::ClientConfig>, rustls::Error> {
        let provider = crypto_provider();
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(rustls::ALL_VERSIONS)?;
        let config = match &self.roots {
            Roots::WebPki => builder.with_root_certificates(rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
            Roots::WithExtra(all) => {
                let mut store = rustls::RootCertStore::empty();
                store.add_parsable_certificates(all.iter().map(|c| CertificateDer::from(c.der())));
                builder.with_root_certificates(store)
            }
            #[cfg(feature = "platform-verifier")]
            Roots::Platform => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(
                    rustls_platform_verifier::Verifier::new(provider)?,
                )),
            #[cfg(not(feature = "platform-verifier"))]
            Roots::Platform => unreachable!("the platform verifier needs its feature"),
        };
        Ok(Arc::new(config.with_no_client_auth()))
    }
}

/// The crypto provider ureq picks for its own TLS: the process default
/// when the application installed one, else *ring* (ureq's `rustls`
/// feature, which this crate uses).
#[cfg(feature = "websocket")]
fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    if let Some(installed) = rustls::crypto::CryptoProvider::get_default() {
        return installed.clone();
    }
    // rustls 0.23.48 deprecates `ring::default_provider` (no post-quantum
    // key exchange) and offers no other way to name the *ring* provider;
    // ureq makes the same call. `ClientConfig::builder()` would pick it
    // without the warning, but panics when the application's rustls has
    // both the `ring` and `aws-lc-rs` features and no default installed.
    #[allow(deprecated)]
    let ring = rustls::crypto::ring::default_provider();
    Arc::new(ring)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CA certificate as PEM: the first of the bundled roots.
    fn some_root_pem() -> Vec<u8> {
        use base64::Engine as _;
        let der = webpki_root_certs::TLS_SERVER_ROOT_CERTS[0].as_ref();
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n").into_bytes()
    }

    fn settings(pems: Vec<Vec<u8>>, platform: bool) -> TlsSettings {
        TlsSettings {
            extra_roots_pem: pems,
            platform_verifier: platform,
        }
    }

    #[test]
    fn bundled_roots_by_default() {
        let tls = Tls::new(&TlsSettings::default()).unwrap();
        assert!(matches!(tls.ureq.root_certs(), RootCerts::WebPki));
        assert!(format!("{tls:?}").contains("bundled web PKI roots"));
    }

    #[test]
    fn extra_certificates_come_on_top_of_the_bundled_ones() {
        let tls = Tls::new(&settings(vec![some_root_pem()], false)).unwrap();
        match tls.ureq.root_certs() {
            RootCerts::Specific(all) => {
                assert_eq!(
                    all.len(),
                    webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() + 1
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(tls.extra, 1);
    }

    #[test]
    fn unusable_pem_fails_with_a_configuration_error() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"not a certificate".to_vec(), "no CERTIFICATE block"),
            (
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
                "not usable",
            ),
            (
                b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".to_vec(),
                "do not parse",
            ),
        ];
        for (pem, expected) in cases {
            match Tls::new(&settings(vec![pem], false)) {
                Err(Error::Config(m)) => assert!(m.contains(expected), "{m}"),
                other => panic!("{other:?}"),
            }
        }
        match Tls::new(&settings(vec![some_root_pem()], true)) {
            Err(Error::Config(m)) => assert!(m.contains("platform verifier"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(all(feature = "websocket", feature = "platform-verifier"))]
    #[test]
    fn the_platform_verifier_serves_both_configurations() {
        let tls = Tls::new(&settings(Vec::new(), true)).unwrap();
        assert!(matches!(tls.ureq.root_certs(), RootCerts::PlatformVerifier));
        tls.rustls_config().unwrap();
    }

    #[cfg(feature = "websocket")]
    #[test]
    fn the_rustls_configuration_is_built_once() {
        let tls = Tls::new(&settings(vec![some_root_pem()], false)).unwrap();
        let a = tls.rustls_config().unwrap();
        let b = tls.rustls_config().unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }
}

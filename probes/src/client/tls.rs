//! The rustls client configuration: the *ring* provider (no aws-lc: it needs cmake
//! and nasm to build), the system's root certificates (rustls-native-certs reads the
//! platform store, /etc/ssl/certs on Debian) plus `--ca` files, or no verification at
//! all with `--insecure`; ALPN `h2` then `http/1.1`.

use super::{ClientError, HttpOptions, MAX_CA_FILE_BYTES};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// The rustls configuration `opts` asks for.
pub(super) fn client_config(opts: &HttpOptions) -> Result<rustls::ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?;
    let mut config = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider)))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(roots(opts)?)
            .with_no_client_auth()
    };
    config.alpn_protocols = if opts.http1_only {
        vec![b"http/1.1".to_vec()]
    } else {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    };
    Ok(config)
}

/// The system's roots (none when the Debian package ca-certificates is missing)
/// plus every `--ca` file.
fn roots(opts: &HttpOptions) -> Result<RootCertStore, ClientError> {
    let mut store = RootCertStore::empty();
    // Unreadable entries of the system store are skipped, as browsers do.
    let native = rustls_native_certs::load_native_certs();
    store.add_parsable_certificates(native.certs);
    for path in &opts.ca_files {
        for cert in ca_file(path)? {
            store.add(cert).map_err(|e| ClientError::Ca {
                path: path.clone(),
                detail: format!("not a usable CA certificate: {e}"),
            })?;
        }
    }
    // An empty store is not an error here: plain http:// still works, and an https://
    // request fails with `UnknownIssuer`, which names the problem.
    Ok(store)
}

/// The certificates of a PEM file.
fn ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let err = |detail: String| ClientError::Ca {
        path: path.to_path_buf(),
        detail,
    };
    let file = std::fs::File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    let mut pem = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(|e| err(format!("cannot read: {e}")))?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(err(format!(
            "larger than {MAX_CA_FILE_BYTES} bytes: not a CA bundle"
        )));
    }
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(err(
            "no `-----BEGIN CERTIFICATE-----` block in it".to_string()
        ));
    }
    Ok(certs)
}

/// `--insecure`: every certificate is accepted (the handshake signatures are still
/// checked, so the connection is encrypted to whoever holds the key).
#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

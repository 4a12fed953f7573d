//! wss: TLS on the client listener, from PEM certificate and key files that are
//! reloaded when they change (a renewed certificate needs no restart; existing
//! connections keep the one they started with).

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{ServerConfig, version};

/// Certificate and key files for wss.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// How often the certificate files are checked for changes.
const RELOAD_CHECK: Duration = Duration::from_secs(2);

/// Builds the TLS acceptor for `files` and starts watching them.
pub fn acceptor(files: &TlsFiles) -> anyhow::Result<TlsAcceptor> {
    let certificate = Arc::new(Certificate::load(files.clone())?);
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_protocol_versions(&[&version::TLS13, &version::TLS12])
        .context("configuring TLS")?
        .with_no_client_auth()
        .with_cert_resolver(Arc::clone(&certificate) as Arc<dyn ResolvesServerCert>);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio::spawn(watch(certificate));
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The current certificate, and the file times it was loaded at.
struct Certificate {
    files: TlsFiles,
    current: RwLock<(Arc<CertifiedKey>, Stamp)>,
}

type Stamp = (Option<SystemTime>, Option<SystemTime>);

impl Certificate {
    fn load(files: TlsFiles) -> anyhow::Result<Self> {
        let stamp = stamp(&files);
        let key = read(&files)?;
        Ok(Certificate {
            files,
            current: RwLock::new((key, stamp)),
        })
    }

    /// Reloads the files if they changed; a broken new pair is logged and the
    /// old certificate kept.
    fn refresh(&self) {
        let stamp = stamp(&self.files);
        if self.current.read().expect("certificate lock").1 == stamp {
            return;
        }
        match read(&self.files) {
            Ok(key) => {
                *self.current.write().expect("certificate lock") = (key, stamp);
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
            }
            Err(error) => {
                tracing::error!(cert = %self.files.cert.display(), "keeping the old TLS certificate: {error:#}");
                // Do not retry the same broken files every tick.
                self.current.write().expect("certificate lock").1 = stamp;
            }
        }
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("files", &self.files)
            .finish()
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().expect("certificate lock").0,
        ))
    }
}

async fn watch(certificate: Arc<Certificate>) {
    let mut ticks = tokio::time::interval(RELOAD_CHECK);
    loop {
        ticks.tick().await;
        certificate.refresh();
    }
}

fn stamp(files: &TlsFiles) -> Stamp {
    let modified = |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    (modified(&files.cert), modified(&files.key))
}

fn read(files: &TlsFiles) -> anyhow::Result<Arc<CertifiedKey>> {
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the TLS certificate {}", files.cert.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "no certificate in {}",
        files.cert.display()
    );
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("cannot read the TLS key {}", files.key.display()))?;
    let key = ring::sign::any_supported_type(&key)
        .with_context(|| format!("unsupported TLS key in {}", files.key.display()))?;
    Ok(Arc::new(CertifiedKey::new(chain, key)))
}

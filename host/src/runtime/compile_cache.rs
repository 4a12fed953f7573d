//! Compiled components on disk, keyed by the component's content hash and the
//! engine's compatibility hash, so a restart with unchanged plugins (or a swap
//! back to an earlier version) does not compile again.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// A component's content hash: hex SHA-256 of its bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Where compiled components are kept, if anywhere.
#[derive(Debug)]
pub struct CompileCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

/// Whether a component came from the cache or was compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Loaded from the compile cache.
    Cached,
    /// Compiled now.
    Compiled,
}

impl CompileCache {
    /// A cache in `dir` (created if missing); without a usable directory,
    /// components are compiled every time.
    pub fn new(dir: Option<&Path>, engine: &Engine) -> Self {
        let dir = dir.and_then(|dir| match std::fs::create_dir_all(dir) {
            Ok(()) => Some(dir.to_path_buf()),
            Err(error) => {
                tracing::warn!(dir = %dir.display(), %error, "compile cache disabled: cannot create its directory");
                None
            }
        });
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        CompileCache {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// The compiled component for `bytes` (whose hash is `hash`, read from
    /// `file`): from the cache if there and sound, otherwise compiled (with a
    /// "compiling" and a "compiled" line in the log) and stored. An entry that
    /// is damaged or was compiled from another component is recompiled with a
    /// warning naming its file.
    pub fn component(
        &self,
        engine: &Engine,
        bytes: &[u8],
        hash: &str,
        file: &Path,
    ) -> wasmtime::Result<(Component, Origin)> {
        let Some(path) = self.path(hash) else {
            return Ok((compile(engine, bytes, file)?, Origin::Compiled));
        };
        match load(engine, &path, hash) {
            Ok(Some(component)) => return Ok((component, Origin::Cached)),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(path = %path.display(), "compile cache entry {} is unusable, recompiling: {error}", path.display())
            }
        }
        let component = compile(engine, bytes, file)?;
        store(&component, hash, &path);
        Ok((component, Origin::Compiled))
    }

    fn path(&self, hash: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(format!("{hash}-{}.cwasm", self.engine_key)))
    }
}

/// Compiles the component in `bytes`, read from `file`, saying so in the log:
/// a big component takes seconds, which a deploy should not spend in silence.
fn compile(engine: &Engine, bytes: &[u8], file: &Path) -> wasmtime::Result<Component> {
    let started = std::time::Instant::now();
    tracing::info!(file = %file.display(), bytes = bytes.len(), "compiling: not in the compile cache");
    let component = Component::new(engine, bytes)?;
    tracing::info!(file = %file.display(), elapsed_ms = started.elapsed().as_millis() as u64, "compiled");
    Ok(component)
}

/// What begins every entry, before the source hash and the checksum.
const MAGIC: &[u8; 16] = b"wsgate-cwasm-v1\n";

/// An entry: [`MAGIC`], the SHA-256 of the component it was compiled from,
/// the SHA-256 of the artifact, the artifact (`Component::serialize`).
const HEADER: usize = MAGIC.len() + 32 + 32;

/// Why a compile cache entry is not used.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// The file cannot be read.
    #[error("cannot read it: {0}")]
    Unreadable(#[from] std::io::Error),
    /// The file does not start with an entry's header.
    #[error("it is not a wsgate compile cache entry")]
    NotAnEntry,
    /// The artifact was compiled from another component.
    #[error("it was compiled from another component ({0})")]
    OtherSource(String),
    /// The artifact's bytes changed since it was written.
    #[error("its checksum does not match: the file was damaged or modified")]
    Checksum,
    /// wasmtime refused the artifact.
    #[error("wasmtime refused it: {0:#}")]
    Refused(wasmtime::Error),
}

/// The cached component for the source `hash` at `path`, none if there is no
/// entry. The entry is verified before wasmtime sees it: a damaged artifact
/// would be run as machine code.
fn load(engine: &Engine, path: &Path, hash: &str) -> Result<Option<Component>, EntryError> {
    let entry = match std::fs::read(path) {
        Ok(entry) => entry,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    if entry.len() < HEADER || !entry.starts_with(MAGIC) {
        return Err(EntryError::NotAnEntry);
    }
    let (header, artifact) = entry.split_at(HEADER);
    let source = hex::encode(&header[MAGIC.len()..MAGIC.len() + 32]);
    if source != hash {
        return Err(EntryError::OtherSource(source));
    }
    if header[MAGIC.len() + 32..] != Sha256::digest(artifact)[..] {
        return Err(EntryError::Checksum);
    }
    // SAFETY: the artifact is byte for byte what `store` wrote from
    // `Component::serialize` of the component with this hash (checked just
    // above), by an engine with the same compatibility hash (it is in the
    // file name), and wasmtime checks its own header again. The cache
    // directory is trusted like the binary itself.
    unsafe { Component::deserialize(engine, artifact) }
        .map(Some)
        .map_err(EntryError::Refused)
}

/// Writes the entry of a component compiled from the source `hash`, to a
/// temporary file then renamed, so a reader never sees half an entry.
/// Failure only costs a recompilation later.
fn store(component: &Component, hash: &str, path: &Path) {
    let written = component
        .serialize()
        .map_err(|error| format!("{error:#}"))
        .and_then(|artifact| {
            let source = hex::decode(hash).map_err(|error| error.to_string())?;
            write_atomically(
                path,
                &[
                    &MAGIC[..],
                    &source,
                    &Sha256::digest(&artifact)[..],
                    &artifact,
                ],
            )
            .map_err(|error| error.to_string())
        });
    if let Err(error) = written {
        tracing::warn!(path = %path.display(), %error, "could not store a compiled component");
    }
}

fn write_atomically(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut partial = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)?;
    for part in parts {
        partial.write_all(part)?;
    }
    partial.as_file().sync_data()?;
    partial.persist(path).map_err(|error| error.error)?;
    Ok(())
}

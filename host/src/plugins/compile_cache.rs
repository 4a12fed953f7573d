//! Compiled components on disk, keyed by the component's content hash and the
//! engine's compatibility hash, so a restart with unchanged plugins (or a swap
//! back to an earlier version) does not compile again.

use std::hash::{DefaultHasher, Hash, Hasher};
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

    /// The compiled component for `bytes` (whose hash is `hash`): from the
    /// cache if there, otherwise compiled and stored.
    pub fn component(
        &self,
        engine: &Engine,
        bytes: &[u8],
        hash: &str,
    ) -> wasmtime::Result<(Component, Origin)> {
        let Some(path) = self.path(hash) else {
            return Ok((Component::new(engine, bytes)?, Origin::Compiled));
        };
        if path.is_file() {
            // SAFETY: the file was written by `store` below from
            // `Component::serialize` of an engine with the same compatibility
            // hash (it is in the file name), and wasmtime checks its header
            // again. The cache directory is trusted like the binary itself.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, Origin::Cached)),
                Err(error) => {
                    tracing::warn!(path = %path.display(), "ignoring an unusable compile cache entry: {error:#}")
                }
            }
        }
        let component = Component::new(engine, bytes)?;
        self.store(&component, &path);
        Ok((component, Origin::Compiled))
    }

    fn path(&self, hash: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(format!("{hash}-{}.cwasm", self.engine_key)))
    }

    /// Writes a compiled component (to a temporary name, then renamed, so a
    /// concurrent reader never sees half a file). Failure only costs a
    /// recompilation later.
    fn store(&self, component: &Component, path: &Path) {
        let partial = path.with_extension(format!("partial-{}", std::process::id()));
        let written = component
            .serialize()
            .map_err(|error| format!("{error:#}"))
            .and_then(|bytes| std::fs::write(&partial, bytes).map_err(|error| error.to_string()))
            .and_then(|()| std::fs::rename(&partial, path).map_err(|error| error.to_string()));
        if let Err(error) = written {
            let _ = std::fs::remove_file(&partial);
            tracing::warn!(path = %path.display(), %error, "could not store a compiled component");
        }
    }
}

//! The route's configuration values, through the standard `wasi:config`
//! interface: the `config` table of the route in `wsgate.toml`, over the
//! file's top-level `[config]` table. Values are strings; numbers and booleans
//! in the file arrive written out (`10`, `true`).
//!
//! ```no_run
//! let room_size: usize = wsgate_sdk::config::get("room_size")
//!     .and_then(|size| size.parse().ok())
//!     .unwrap_or(50);
//! let backend = wsgate_sdk::config::require("backend_url")?;
//! # Ok::<(), wsgate_sdk::Error>(())
//! ```

use crate::Error;
use crate::host::config as host;

/// The value of `key`, if the route has one.
pub fn get(key: &str) -> Option<String> {
    host::get(key)
}

/// The value of `key`, or an error that says where to set it.
pub fn require(key: &str) -> Result<String, Error> {
    get(key).ok_or_else(|| {
        Error::from(format!(
            "no configuration value `{key}`: set it in wsgate.toml, in [config] or in the route's `config` table"
        ))
    })
}

/// Every value the route has, as key/value pairs.
pub fn all() -> Vec<(String, String)> {
    host::all()
}

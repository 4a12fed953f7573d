//! `wsgate new`: a route handler project to start from, in Rust, Python or
//! JavaScript.
//!
//! The templates live in `host/templates/<language>/`; they and the WIT world
//! are embedded in the binary at build time (`host/build.rs`), so the command
//! works anywhere. Python and JavaScript projects get their own copy of `wit/`,
//! which their toolchains generate bindings from; Rust projects depend on the
//! SDK, which carries it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The embedded files: `TEMPLATES` and `WIT`, by path relative to their directory.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The SDK this binary was built from, which Rust projects depend on by path
/// unless `--sdk` says otherwise (the SDK is not on crates.io).
const BUILT_FROM_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk");

/// A language `wsgate new` has a template for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    /// Rust, with the wsgate SDK.
    Rust,
    /// Python, built with componentize-py.
    Python,
    /// JavaScript, built with jco componentize.
    Js,
}

impl Language {
    fn template(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Js => "js",
        }
    }
}

/// The arguments of `wsgate new`.
#[derive(Debug, clap::Args)]
pub struct NewProject {
    /// The handler's language.
    #[arg(long, value_enum)]
    lang: Language,

    /// The directory to create; its name (lower-case letters, digits, `-`, `_`)
    /// names the project and the component.
    dir: PathBuf,

    /// The `sdk/` directory of a wsgate checkout, for a Rust project
    /// [default: the SDK this wsgate was built from].
    #[arg(long, value_name = "DIR")]
    sdk: Option<PathBuf>,
}

impl NewProject {
    /// Writes the project and says where to go next.
    pub fn create(&self) -> anyhow::Result<()> {
        let name = project_name(&self.dir)?;
        if std::fs::read_dir(&self.dir).is_ok_and(|mut entries| entries.next().is_some()) {
            bail!("{} already exists and is not empty", self.dir.display());
        }
        let sdk = match self.lang {
            Language::Rust => sdk_dir(self.sdk.as_deref())?,
            Language::Python | Language::Js => PathBuf::new(),
        };
        for (path, contents) in files(self.lang, &name, &sdk) {
            let path = self.dir.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, contents)
                .with_context(|| format!("writing {}", path.display()))?;
            if path.extension().is_some_and(|extension| extension == "sh") {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            }
        }
        println!(
            "created the {} route handler {name} in {}: its README.md says how to build it \
             and drop it into a plugins directory",
            self.lang.template(),
            self.dir.display()
        );
        Ok(())
    }
}

/// The project's files, relative to its directory, with the placeholders
/// (`{{name}}`, `{{artifact}}`, `{{sdk}}`) filled in.
fn files(language: Language, name: &str, sdk: &Path) -> Vec<(PathBuf, String)> {
    let prefix = format!("{}/", language.template());
    let artifact = name.replace('-', "_");
    // The SDK path goes into a TOML string.
    let sdk = sdk
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{artifact}}", &artifact)
            .replace("{{sdk}}", &sdk)
    };
    let template = embedded::TEMPLATES.iter().filter_map(|(path, contents)| {
        let path = path.strip_prefix(&prefix)?;
        Some((PathBuf::from(path), fill(contents)))
    });
    let wit = embedded::WIT
        .iter()
        .filter(|_| language != Language::Rust)
        .map(|(path, contents)| (Path::new("wit").join(path), contents.to_string()));
    template.chain(wit).collect()
}

/// The project's name: the directory's, if it suits a crate, a Python module
/// and an npm package alike.
fn project_name(dir: &Path) -> anyhow::Result<String> {
    let name = dir
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        bail!(
            "`{name}` cannot name a project: use lower-case letters, digits, `-` and `_`, \
             starting with a letter"
        );
    }
    Ok(name.to_owned())
}

fn sdk_dir(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let sdk = given.unwrap_or(Path::new(BUILT_FROM_SDK));
    match sdk.join("Cargo.toml").is_file() {
        true => Ok(sdk.canonicalize()?),
        false => bail!(
            "no wsgate SDK in {}: pass --sdk with the sdk/ directory of a wsgate checkout",
            sdk.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(files: &[(PathBuf, String)], name: &str) -> String {
        let (_, contents) = files
            .iter()
            .find(|(path, _)| path == Path::new(name))
            .unwrap_or_else(|| panic!("{name} is missing"));
        contents.clone()
    }

    #[test]
    fn every_placeholder_is_filled() {
        for language in [Language::Rust, Language::Python, Language::Js] {
            for (path, contents) in files(language, "my-room", Path::new("/opt/wsgate/sdk")) {
                assert!(!contents.contains("{{"), "{path:?}: {contents}");
            }
        }
        let rust = files(Language::Rust, "my-room", Path::new("/opt/wsgate/sdk"));
        assert!(file(&rust, "Cargo.toml").contains(r#"path = "/opt/wsgate/sdk""#));
        assert!(file(&rust, "README.md").contains("release/my_room.wasm"));
    }

    #[test]
    fn python_and_js_projects_carry_the_wit_world_and_rust_ones_do_not() {
        let python = files(Language::Python, "calc", Path::new(""));
        assert_eq!(
            file(&python, "wit/world.wit"),
            include_str!("../../../wit/world.wit")
        );
        assert!(
            file(&python, "wit/deps/config/world.wit").contains("package wasi:config"),
            "the WASI packages the world imports come along"
        );
        // The frozen 0.1.0 world is served, but no project starts on it.
        assert!(python.iter().all(|(path, _)| !path.starts_with("wit/v0.1")));
        let js = files(Language::Js, "calc", Path::new(""));
        assert!(
            js.iter()
                .any(|(path, _)| path == Path::new("wit/world.wit"))
        );
        let rust = files(Language::Rust, "calc", Path::new(""));
        assert!(rust.iter().all(|(path, _)| !path.starts_with("wit")));
    }

    #[test]
    fn projects_pin_the_toolchains_the_repository_builds_with() {
        let pins = |file: &str| {
            std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../xtask/toolchains")
                    .join(file),
            )
            .unwrap()
        };
        let python = files(Language::Python, "calc", Path::new(""));
        let requirement = file(&python, "requirements.txt");
        assert!(
            pins("requirements.txt").contains(requirement.trim()),
            "{requirement}"
        );
        let js = files(Language::Js, "calc", Path::new(""));
        let package: serde_json::Value = serde_json::from_str(&file(&js, "package.json")).unwrap();
        let toolchain: serde_json::Value = serde_json::from_str(&pins("package.json")).unwrap();
        assert_eq!(package["devDependencies"], toolchain["dependencies"]);
        assert_eq!(package["overrides"], toolchain["overrides"]);
    }

    #[test]
    fn names_must_suit_every_language() {
        for good in ["calc", "my-room", "room_2"] {
            assert_eq!(
                project_name(Path::new("/tmp").join(good).as_path()).unwrap(),
                good
            );
        }
        for bad in ["Calc", "2rooms", "my room", "é"] {
            assert!(project_name(&Path::new("/tmp").join(bad)).is_err(), "{bad}");
        }
    }
}

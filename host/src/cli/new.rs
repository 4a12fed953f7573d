//! `wsgate new`: a route handler project to start from, in Rust, Python,
//! JavaScript or C.
//!
//! The templates live in `host/templates/<language>/` (and, for every
//! language, `host/templates/common/`); they, the WIT world and the SDK's
//! sources are embedded in the binary at build time (`host/build.rs`), so the
//! command works anywhere and what it writes builds wherever it is copied.
//! Every project gets its own copy of `wit/`, which its toolchain generates
//! bindings from, and a `plugins/` directory whose `wsgate.toml` binds the
//! handler to `$connect` and `$default`. A Rust project also carries the SDK
//! (`wsgate-sdk/`, which is not on crates.io), unless `--sdk` names a
//! checkout's.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The embedded files: `TEMPLATES`, `WIT` and `SDK`, by path relative to
/// their directory.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Where a Rust project's copy of the SDK goes, in the project.
const CARRIED_SDK: &str = "wsgate-sdk";

/// A language `wsgate new` has a template for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    /// Rust, with the wsgate SDK.
    Rust,
    /// Python, built with componentize-py.
    Python,
    /// JavaScript, built with jco componentize.
    Js,
    /// C, built with wit-bindgen, clang and wasm-component-ld.
    C,
}

impl Language {
    fn template(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Js => "js",
            Language::C => "c",
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

    /// The `sdk/` directory of a wsgate checkout, for a Rust project to depend
    /// on [default: a copy of the SDK this wsgate carries, in the project's
    /// `wsgate-sdk/`].
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
        let sdk = match (self.lang, &self.sdk) {
            (Language::Rust, Some(given)) => Some(sdk_dir(given)?),
            _ => None,
        };
        for (path, contents) in files(self.lang, &name, sdk.as_deref()) {
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
/// (`{{name}}`, `{{artifact}}`, `{{component}}`, `{{sdk}}`) filled in. A Rust
/// project depends on the checkout's SDK in `sdk`, if given, and else carries
/// its own copy.
fn files(language: Language, name: &str, sdk: Option<&Path>) -> Vec<(PathBuf, String)> {
    let artifact = name.replace('-', "_");
    // The file the build makes, which `plugins/wsgate.toml` binds: cargo
    // names it after the library, the other toolchains after the project.
    let component = match language {
        Language::Rust => format!("{artifact}.wasm"),
        Language::Python | Language::Js | Language::C => format!("{name}.wasm"),
    };
    // The SDK path goes into a TOML string.
    let sdk_path = sdk
        .map_or(CARRIED_SDK.to_owned(), |sdk| sdk.display().to_string())
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{artifact}}", &artifact)
            .replace("{{component}}", &component)
            .replace("{{sdk}}", &sdk_path)
    };
    // The embedded files below `prefix/`, by their path below it.
    let template = |prefix: &str| {
        let prefix = format!("{prefix}/");
        embedded::TEMPLATES
            .iter()
            .filter_map(move |(path, contents)| Some((path.strip_prefix(&prefix)?, *contents)))
    };
    let mut files: Vec<(PathBuf, String)> = template(language.template())
        .chain(template("common"))
        .map(|(path, contents)| (PathBuf::from(path), fill(contents)))
        .collect();
    let carries_sdk = language == Language::Rust && sdk.is_none();
    // The carried SDK generates its bindings from `../wit`: the project's.
    if language != Language::Rust || carries_sdk {
        files.extend(placed("wit", embedded::WIT.iter().copied()));
    }
    if carries_sdk {
        files.extend(placed(CARRIED_SDK, embedded::SDK.iter().copied()));
        files.extend(placed(CARRIED_SDK, template("sdk")));
    }
    files
}

/// Embedded files, as they are, below `dir` in the project.
fn placed<'a>(
    dir: &'a str,
    files: impl Iterator<Item = (&'a str, &'a str)> + 'a,
) -> impl Iterator<Item = (PathBuf, String)> + 'a {
    files.map(move |(path, contents)| (Path::new(dir).join(path), contents.to_owned()))
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

/// The `sdk/` directory of a checkout, made absolute for the project's
/// manifest.
fn sdk_dir(sdk: &Path) -> anyhow::Result<PathBuf> {
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
        let checkout = Some(Path::new("/opt/wsgate/sdk"));
        for language in [Language::Rust, Language::Python, Language::Js, Language::C] {
            for sdk in [None, checkout] {
                for (path, contents) in files(language, "my-room", sdk) {
                    assert!(!contents.contains("{{"), "{path:?}: {contents}");
                }
            }
        }
        let rust = files(Language::Rust, "my-room", checkout);
        assert!(file(&rust, "Cargo.toml").contains(r#"path = "/opt/wsgate/sdk""#));
        assert!(file(&rust, "README.md").contains("release/my_room.wasm"));
        // The plugins directory binds what each toolchain names the build.
        assert!(file(&rust, "plugins/wsgate.toml").contains(r#""$connect" = "my_room.wasm""#));
        let python = files(Language::Python, "my-room", None);
        assert!(file(&python, "plugins/wsgate.toml").contains(r#""$default" = "my-room.wasm""#));
    }

    #[test]
    fn every_project_carries_the_wit_world_but_one_on_a_checkouts_sdk() {
        let python = files(Language::Python, "calc", None);
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
        let js = files(Language::Js, "calc", None);
        assert!(
            js.iter()
                .any(|(path, _)| path == Path::new("wit/world.wit"))
        );
        let c = files(Language::C, "calc", None);
        assert!(c.iter().any(|(path, _)| path == Path::new("wit/world.wit")));
        let rust = files(Language::Rust, "calc", None);
        assert!(
            rust.iter()
                .any(|(path, _)| path == Path::new("wit/world.wit"))
        );
        let on_checkout = files(Language::Rust, "calc", Some(Path::new("/opt/wsgate/sdk")));
        assert!(on_checkout.iter().all(|(path, _)| !path.starts_with("wit")));
        assert!(
            on_checkout
                .iter()
                .all(|(path, _)| !path.starts_with(CARRIED_SDK))
        );
    }

    #[test]
    fn a_rust_project_carries_the_sdk_with_the_workspaces_dependencies() {
        let rust = files(Language::Rust, "calc", None);
        assert!(file(&rust, "Cargo.toml").contains(r#"path = "wsgate-sdk""#));
        assert_eq!(
            file(&rust, "wsgate-sdk/src/lib.rs"),
            include_str!("../../../sdk/src/lib.rs")
        );
        // Its bindings come from the project's own copy of the world.
        assert!(file(&rust, "wsgate-sdk/src/lib.rs").contains(r#"path: "../wit""#));
        let carried: toml::Table = file(&rust, "wsgate-sdk/Cargo.toml").parse().unwrap();
        let sdk: toml::Table = include_str!("../../../sdk/Cargo.toml").parse().unwrap();
        let workspace: toml::Table = include_str!("../../../Cargo.toml").parse().unwrap();
        let inherited = &workspace["workspace"]["dependencies"];
        let dependencies = sdk["dependencies"].as_table().unwrap();
        assert_eq!(
            carried["dependencies"].as_table().unwrap().len(),
            dependencies.len()
        );
        for name in dependencies.keys() {
            assert_eq!(
                carried["dependencies"][name], inherited[name],
                "the carried SDK's {name} is the workspace's"
            );
        }
        for key in ["version", "edition", "rust-version", "license"] {
            assert_eq!(
                carried["package"][key], workspace["workspace"]["package"][key],
                "{key}"
            );
        }
        assert_eq!(carried["lib"], sdk["lib"]);
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
        let python = files(Language::Python, "calc", None);
        let requirement = file(&python, "requirements.txt");
        assert!(
            pins("requirements.txt").contains(requirement.trim()),
            "{requirement}"
        );
        let js = files(Language::Js, "calc", None);
        let package: serde_json::Value = serde_json::from_str(&file(&js, "package.json")).unwrap();
        let toolchain: serde_json::Value = serde_json::from_str(&pins("package.json")).unwrap();
        assert_eq!(package["devDependencies"], toolchain["dependencies"]);
        assert_eq!(package["overrides"], toolchain["overrides"]);
        // Each tool of the C toolchain, installed as the repository does.
        let c = files(Language::C, "calc", None);
        let readme = file(&c, "README.md");
        let tools = pins("c.txt");
        let installs = tools
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'));
        for install in installs {
            let command = format!("cargo install --locked {install}");
            assert!(readme.contains(&command), "{command}");
        }
        assert!(file(&c, "build.sh").contains("rustc --print sysroot"));
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

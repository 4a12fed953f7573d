//! The authorizer's configuration: the route's `wasi:config` values, read
//! on every `$connect`, so an edit of `wsgate.toml` applies from the next
//! connection on. A mistake in them is the operator's: it names the key.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::keys::{self, Key};

/// Where a token may be taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `Authorization: Bearer <token>`.
    Header,
    /// A query parameter (`?access_token=<token>`).
    Query,
    /// A subprotocol entry (`Sec-WebSocket-Protocol: chat, bearer.<token>`).
    Subprotocol,
}

/// An issuer whose tokens are accepted, with its keys.
pub struct Issuer {
    /// The `iss` its tokens carry.
    pub issuer: String,
    /// Keys given in the configuration (`secret`, `public_key`, `jwks`).
    pub keys: Vec<Key>,
    /// Where the rest of its keys are fetched from, if anywhere.
    pub jwks_url: Option<String>,
}

/// The route's configuration, resolved.
pub struct Settings {
    /// The issuers accepted; an `iss` none of them has is refused.
    pub issuers: Vec<Issuer>,
    /// If set, a token's `aud` must name one of these.
    pub audiences: Vec<String>,
    /// The clock skew allowed for `exp` and `nbf`.
    pub leeway: Duration,
    /// Where tokens are looked for, in this order.
    pub sources: Vec<Source>,
    /// The query parameter of [`Source::Query`].
    pub query_parameter: String,
    /// What a subprotocol entry of [`Source::Subprotocol`] starts with.
    pub subprotocol_prefix: String,
    /// The application's subprotocols, if listed; else whatever the client
    /// offers beside its token.
    pub subprotocols: Option<Vec<String>>,
    /// Claim → connection context key.
    pub claims: Vec<(String, String)>,
    /// How long fetched keys are used before they are fetched again.
    pub jwks_ttl: Duration,
    /// The least time between two fetches of one issuer's keys.
    pub jwks_cooldown: Duration,
}

/// The keys that describe one issuer: at the top level, or under
/// `issuers.NAME.` for each further one.
const ISSUER_KEYS: [&str; 5] = ["issuer", "secret", "public_key", "jwks", "jwks_url"];

impl Settings {
    /// Resolves the route's configuration values.
    pub fn parse(values: impl IntoIterator<Item = (String, String)>) -> Result<Self, String> {
        let values: BTreeMap<String, String> = values.into_iter().collect();
        let get = |key: &str| values.get(key).map(String::as_str);
        let issuers = issuers(&values)?;
        let sources = match get("token_sources") {
            Some(list) => split(list).map(source).collect::<Result<Vec<_>, _>>()?,
            None => vec![Source::Header, Source::Subprotocol, Source::Query],
        };
        if sources.is_empty() {
            return Err("`token_sources` lists no source".into());
        }
        let mut claims: Vec<(String, String)> = values
            .iter()
            .filter_map(|(key, value)| Some((key.strip_prefix("claim.")?, value)))
            .map(|(claim, key)| match (claim.is_empty(), key.is_empty()) {
                (false, false) => Ok((claim.to_owned(), key.clone())),
                _ => Err(format!("`claim.{claim}`: name a claim and a context key")),
            })
            .collect::<Result<_, _>>()?;
        if claims.is_empty() {
            claims.push(("sub".into(), "sub".into()));
        }
        Ok(Settings {
            issuers,
            audiences: get("audience").map(list).unwrap_or_default(),
            leeway: duration(&values, "leeway", 60)?,
            sources,
            query_parameter: get("query_parameter").unwrap_or("access_token").to_owned(),
            subprotocol_prefix: get("subprotocol_prefix").unwrap_or("bearer.").to_owned(),
            subprotocols: get("subprotocols").map(list),
            claims,
            jwks_ttl: duration(&values, "jwks_ttl", 600)?,
            jwks_cooldown: duration(&values, "jwks_cooldown", 30)?,
        })
    }

    /// The accepted issuer whose `iss` is `iss`.
    pub fn issuer(&self, iss: &str) -> Option<&Issuer> {
        self.issuers.iter().find(|issuer| issuer.issuer == iss)
    }
}

/// The issuers of the top-level keys and of every `issuers.NAME.` group.
fn issuers(values: &BTreeMap<String, String>) -> Result<Vec<Issuer>, String> {
    let mut groups: BTreeMap<String, BTreeMap<&str, &str>> = BTreeMap::new();
    for (key, value) in values {
        if let Some(field) = ISSUER_KEYS.iter().find(|field| key == *field) {
            groups
                .entry(String::new())
                .or_default()
                .insert(field, value);
        } else if let Some(grouped) = key.strip_prefix("issuers.") {
            let (name, field) = grouped
                .rsplit_once('.')
                .and_then(|(name, field)| Some((name, ISSUER_KEYS.iter().find(|f| **f == field)?)))
                .ok_or_else(|| {
                    format!("`{key}`: an issuer's keys are {}", ISSUER_KEYS.join(", "))
                })?;
            let prefix = format!("issuers.{name}.");
            groups.entry(prefix).or_default().insert(field, value);
        }
    }
    if groups.is_empty() {
        return Err(
            "configure `issuer` and its keys: `secret`, `public_key`, `jwks` or `jwks_url`".into(),
        );
    }
    let issuers = groups
        .iter()
        .map(|(prefix, fields)| issuer(prefix, fields))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, issuer) in issuers.iter().enumerate() {
        if issuers[..i]
            .iter()
            .any(|other| other.issuer == issuer.issuer)
        {
            return Err(format!("issuer `{}` is configured twice", issuer.issuer));
        }
    }
    Ok(issuers)
}

/// One issuer from its keys (`prefix` is empty at the top level).
fn issuer(prefix: &str, fields: &BTreeMap<&str, &str>) -> Result<Issuer, String> {
    let issuer = fields
        .get("issuer")
        .filter(|issuer| !issuer.is_empty())
        .ok_or_else(|| format!("`{prefix}issuer` is missing: the `iss` its tokens carry"))?;
    let mut keys = Vec::new();
    if let Some(secret) = fields.get("secret") {
        keys.push(keys::from_secret(secret));
    }
    if let Some(pem) = fields.get("public_key") {
        keys.push(keys::from_pem(pem).map_err(|error| format!("`{prefix}public_key`: {error}"))?);
    }
    if let Some(jwks) = fields.get("jwks") {
        keys.extend(
            keys::from_jwks(jwks, keys::Secrets::Allowed)
                .map_err(|error| format!("`{prefix}jwks`: {error}"))?,
        );
    }
    let jwks_url = fields.get("jwks_url").map(|url| url.to_string());
    if keys.is_empty() && jwks_url.is_none() {
        return Err(format!(
            "issuer `{issuer}` has no key: set `{prefix}secret`, `{prefix}public_key`, `{prefix}jwks` or `{prefix}jwks_url`"
        ));
    }
    Ok(Issuer {
        issuer: issuer.to_string(),
        keys,
        jwks_url,
    })
}

fn source(name: &str) -> Result<Source, String> {
    match name {
        "header" => Ok(Source::Header),
        "query" => Ok(Source::Query),
        "subprotocol" => Ok(Source::Subprotocol),
        other => Err(format!(
            "`token_sources`: `{other}` is not one of header, query, subprotocol"
        )),
    }
}

/// A comma-separated list's items, trimmed, without empty ones.
fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn list(value: &str) -> Vec<String> {
    split(value).map(str::to_owned).collect()
}

/// The duration of `key`: `90` (seconds), `500ms`, `30s`, `10m` or `1h`.
fn duration(
    values: &BTreeMap<String, String>,
    key: &str,
    default_seconds: u64,
) -> Result<Duration, String> {
    let Some(text) = values.get(key) else {
        return Ok(Duration::from_secs(default_seconds));
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| {
        format!("`{key}` must be a duration such as `60`, `30s` or `10m`, not `{text}`")
    })?;
    let unit = match unit.trim() {
        "ms" => Duration::from_millis(1),
        "" | "s" => Duration::from_secs(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        other => return Err(format!("`{key}`: unknown unit `{other}` (ms, s, m or h)")),
    };
    Ok(unit * u32::try_from(number).map_err(|_| format!("`{key}` is too long"))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        Settings::parse(
            pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string())),
        )
    }

    #[test]
    fn defaults_take_tokens_from_everywhere_and_map_sub() {
        let settings = parse(&[("issuer", "https://idp/"), ("secret", "s")]).unwrap();
        assert_eq!(settings.issuers.len(), 1);
        assert_eq!(settings.issuers[0].issuer, "https://idp/");
        assert_eq!(
            settings.sources,
            [Source::Header, Source::Subprotocol, Source::Query]
        );
        assert_eq!(settings.query_parameter, "access_token");
        assert_eq!(settings.subprotocol_prefix, "bearer.");
        assert_eq!(settings.leeway, Duration::from_secs(60));
        assert_eq!(settings.claims, [("sub".to_owned(), "sub".to_owned())]);
        assert!(settings.subprotocols.is_none());
        assert!(settings.audiences.is_empty());
    }

    #[test]
    fn named_issuers_claims_and_lists_are_read() {
        let settings = parse(&[
            ("issuers.corp.issuer", "https://corp/"),
            ("issuers.corp.jwks_url", "http://corp/jwks"),
            ("issuer", "https://demo/"),
            ("secret", "s"),
            ("audience", "api, admin-api"),
            ("claim.sub", "userId"),
            ("claim.https://x/roles", "roles"),
            ("token_sources", "subprotocol"),
            ("subprotocols", "chat.v2,chat.v1"),
            ("leeway", "5s"),
            ("jwks_cooldown", "0"),
            ("jwks_ttl", "2m"),
        ])
        .unwrap();
        assert_eq!(settings.issuer("https://corp/").unwrap().keys.len(), 0);
        assert_eq!(
            settings
                .issuer("https://corp/")
                .unwrap()
                .jwks_url
                .as_deref(),
            Some("http://corp/jwks")
        );
        assert_eq!(settings.issuer("https://demo/").unwrap().keys.len(), 1);
        assert!(settings.issuer("https://other/").is_none());
        assert_eq!(settings.audiences, ["api", "admin-api"]);
        assert_eq!(
            settings.claims,
            [
                ("https://x/roles".to_owned(), "roles".to_owned()),
                ("sub".to_owned(), "userId".to_owned())
            ]
        );
        assert_eq!(settings.sources, [Source::Subprotocol]);
        assert_eq!(
            settings.subprotocols,
            Some(vec!["chat.v2".to_owned(), "chat.v1".to_owned()])
        );
        assert_eq!(settings.leeway, Duration::from_secs(5));
        assert_eq!(settings.jwks_cooldown, Duration::ZERO);
        assert_eq!(settings.jwks_ttl, Duration::from_secs(120));
    }

    #[test]
    fn mistakes_name_the_key() {
        for (pairs, expected) in [
            (vec![("room_size", "5")], "configure `issuer`"),
            (vec![("secret", "s")], "`issuer` is missing"),
            (vec![("issuer", "i")], "has no key"),
            (
                vec![("issuers.a.issuer", "i"), ("issuers.a.secrte", "s")],
                "`issuers.a.secrte`",
            ),
            (
                vec![("issuer", "i"), ("secret", "s"), ("public_key", "nope")],
                "`public_key`",
            ),
            (
                vec![
                    ("issuer", "i"),
                    ("secret", "s"),
                    ("issuers.b.issuer", "i"),
                    ("issuers.b.secret", "t"),
                ],
                "configured twice",
            ),
            (
                vec![("issuer", "i"), ("secret", "s"), ("leeway", "soon")],
                "`leeway`",
            ),
            (
                vec![
                    ("issuer", "i"),
                    ("secret", "s"),
                    ("token_sources", "cookie"),
                ],
                "`cookie`",
            ),
            (
                vec![("issuer", "i"), ("secret", "s"), ("claim.sub", "")],
                "`claim.sub`",
            ),
        ] {
            let error = parse(&pairs).err().expect("a mistake");
            assert!(error.contains(expected), "{pairs:?}: {error}");
        }
    }

    #[test]
    fn other_routes_values_are_left_alone() {
        let settings = parse(&[("issuer", "i"), ("secret", "s"), ("room_size", "5")]);
        assert!(settings.is_ok());
    }
}

//! The route selection expression: which JSON field of a message names its route.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// A parsed route selection expression such as `$request.body.action`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSelection {
    path: Vec<String>,
}

/// A route selection expression that is not of the form `$request.body.<path>`.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid route selection expression `{0}`: expected `$request.body.` followed by a \
     dot-separated JSON path, such as `$request.body.action`"
)]
pub struct InvalidSelection(String);

impl Default for RouteSelection {
    fn default() -> Self {
        RouteSelection {
            path: vec!["action".to_owned()],
        }
    }
}

impl FromStr for RouteSelection {
    type Err = InvalidSelection;

    fn from_str(expression: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidSelection(expression.to_owned());
        let path = expression
            .trim()
            .strip_prefix("$request.body.")
            .ok_or_else(invalid)?;
        let path: Vec<String> = path.split('.').map(str::to_owned).collect();
        if path.iter().any(String::is_empty) {
            return Err(invalid());
        }
        Ok(RouteSelection { path })
    }
}

impl fmt::Display for RouteSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "$request.body.{}", self.path.join("."))
    }
}

impl RouteSelection {
    /// The route key a text message names: the string at the expression's path
    /// if the message is a JSON object that has one, otherwise none.
    ///
    /// Only the fields on the path are decoded; everything else is skipped.
    pub fn route_key(&self, text: &str) -> Option<String> {
        let mut json = serde_json::Deserializer::from_str(text);
        let key = Path(&self.path).deserialize(&mut json).ok()?;
        json.end().ok()?;
        key
    }
}

/// Looks up the rest of the path inside a JSON object.
struct Path<'a>(&'a [String]);

impl<'de> DeserializeSeed<'de> for Path<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Path<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some((field, rest)) = self.0.split_first() else {
            return Ok(None);
        };
        let mut found = None;
        while let Some(matches) = map.next_key_seed(KeyIs(field))? {
            if matches && found.is_none() {
                found = match rest.is_empty() {
                    true => map.next_value_seed(Leaf)?,
                    false => map.next_value_seed(Path(rest))?,
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Compares an object key with the wanted field without allocating.
struct KeyIs<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// The value at the end of the path: a route key only if it is a string.
struct Leaf;

impl<'de> DeserializeSeed<'de> for Leaf {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Leaf {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(value.to_owned()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(expression: &str, text: &str) -> Option<String> {
        expression
            .parse::<RouteSelection>()
            .unwrap()
            .route_key(text)
    }

    #[test]
    fn picks_the_field_named_by_the_expression() {
        assert_eq!(
            key(
                "$request.body.action",
                r#"{"action":"send","x":[1,{"a":2}]}"#
            )
            .as_deref(),
            Some("send")
        );
        assert_eq!(
            key(
                "$request.body.meta.route",
                r#"{"meta":{"other":1,"route":"join"}}"#
            )
            .as_deref(),
            Some("join")
        );
        assert_eq!(
            key("$request.body.action", r#"{"act\u0069on":"esc"}"#).as_deref(),
            Some("esc")
        );
    }

    #[test]
    fn anything_else_has_no_route_key() {
        for text in [
            "hello",
            "",
            "[1,2]",
            r#"{"action":5}"#,
            r#"{"other":"x"}"#,
            r#"{"action":"x"} trailing"#,
            r#"{"action":"x""#,
        ] {
            assert_eq!(key("$request.body.action", text), None, "{text}");
        }
        assert_eq!(key("$request.body.a.b", r#"{"a":"not an object"}"#), None);
    }

    #[test]
    fn rejects_malformed_expressions() {
        for bad in [
            "action",
            "$request.body.",
            "$request.body.a..b",
            "$request.header.x",
        ] {
            assert!(bad.parse::<RouteSelection>().is_err(), "{bad}");
        }
        assert_eq!(
            RouteSelection::default().to_string(),
            "$request.body.action"
        );
    }
}

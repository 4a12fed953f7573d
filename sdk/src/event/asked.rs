//! Values asked of the gateway one name at a time.

use std::cell::OnceCell;

/// How many names an event keeps answers for; a handler that reads more asks
/// for the whole list once instead.
const KEPT: usize = 4;

/// Answers of a by-name getter (`connection-context-value`, `header`,
/// `query-param`), kept for the event: a handler that reads a key or two
/// asks the gateway for those alone, one string each, instead of the whole
/// list with every pair in it. Kept in cells that are set once, so an answer
/// can be handed out as a `&str` for as long as the event lives.
#[derive(Default)]
pub(super) struct Asked {
    answers: [OnceCell<(String, Option<String>)>; KEPT],
}

impl Asked {
    /// The value of `name` among `all`'s pairs (`same` says whether two
    /// names are one): from `all` once it has been read (or given), else
    /// asked by name with `ask` and kept, else (once every place is taken)
    /// from `all`, read now with `read_all`.
    pub(super) fn value<'a>(
        &'a self,
        all: &'a OnceCell<Vec<(String, String)>>,
        name: &str,
        same: impl Fn(&str, &str) -> bool,
        ask: impl FnOnce() -> Option<String>,
        read_all: impl FnOnce() -> Vec<(String, String)>,
    ) -> Option<&'a str> {
        let find = |pairs: &'a [(String, String)]| super::find(pairs, |key| same(key, name));
        if let Some(pairs) = all.get() {
            return find(pairs);
        }
        self.get(name, &same, ask)
            .unwrap_or_else(|| find(all.get_or_init(read_all)))
    }

    /// The answer for `name` (`same` says whether two names are one): kept,
    /// or asked with `ask` and kept while there is room; `None` once every
    /// place holds another name's answer.
    fn get<'a>(
        &'a self,
        name: &str,
        same: impl Fn(&str, &str) -> bool,
        ask: impl FnOnce() -> Option<String>,
    ) -> Option<Option<&'a str>> {
        for answer in &self.answers {
            match answer.get() {
                Some((asked, value)) if same(asked, name) => return Some(value.as_deref()),
                Some(_) => continue,
                None => {
                    let (_, value) = answer.get_or_init(|| (name.to_owned(), ask()));
                    return Some(value.as_deref());
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn each_name_is_asked_once_until_there_is_no_room_left() {
        let asked = Asked::default();
        let calls = Cell::new(0);
        let get = |name: &str| {
            let ask = || {
                calls.set(calls.get() + 1);
                (name != "none").then(|| format!("value of {}", name.to_lowercase()))
            };
            asked.get(name, |a, b| a.eq_ignore_ascii_case(b), ask)
        };
        assert_eq!(get("room"), Some(Some("value of room")));
        assert_eq!(
            get("ROOM"),
            Some(Some("value of room")),
            "kept, by the same name"
        );
        assert_eq!(get("none"), Some(None), "an absent value is kept too");
        assert_eq!(get("none"), Some(None));
        assert_eq!(calls.get(), 2);
        assert_eq!(get("a"), Some(Some("value of a")));
        assert_eq!(get("b"), Some(Some("value of b")));
        assert_eq!(get("c"), None, "no room: the caller reads the whole list");
        assert_eq!(get("room"), Some(Some("value of room")));
        assert_eq!(calls.get(), 4);
    }

    #[test]
    fn a_value_comes_from_the_list_once_read_else_by_name_else_from_the_list_read_then() {
        let asked = Asked::default();
        let all = OnceCell::new();
        let (by_name, whole) = (Cell::new(0), Cell::new(0));
        let pairs = || {
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("f".to_owned(), "6".to_owned()),
            ]
        };
        let value = |name: &str| {
            let ask = || {
                by_name.set(by_name.get() + 1);
                pairs()
                    .into_iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value)
            };
            let read_all = || {
                whole.set(whole.get() + 1);
                pairs()
            };
            asked.value(&all, name, |a, b| a == b, ask, read_all)
        };
        // Four names are asked one by one, each once; the list is not read.
        for name in ["a", "b", "c", "d", "a"] {
            assert_eq!(value(name), (name == "a").then_some("1"), "{name}");
        }
        assert_eq!((by_name.get(), whole.get()), (4, 0));
        // A fifth name reads the whole list, which then answers every name.
        assert_eq!(value("f"), Some("6"));
        assert_eq!(value("e"), None);
        assert_eq!(value("a"), Some("1"));
        assert_eq!((by_name.get(), whole.get()), (4, 1));
    }
}

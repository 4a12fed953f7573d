//! `GET /metrics` read the way a plain Prometheus text-format (0.0.4) parser
//! reads it: a family is what a `# TYPE` line names, a sample belongs to the
//! family of its own name (or, for `_bucket`, `_sum` and `_count`, to the
//! histogram or summary it extends), and a sample no `# TYPE` line covers
//! starts an untyped family of its own. Other `#` lines (`# UNIT`, `# EOF`)
//! are comments to such a parser.

use std::collections::BTreeMap;

/// One scrape's families and samples.
#[derive(Debug)]
pub struct Scrape {
    /// Each family's type, by the name its `# TYPE` line gives it.
    types: BTreeMap<String, String>,
    /// Every sample: its series (name and labels as written) and value.
    samples: Vec<(String, f64)>,
    /// The `# TYPE` lines naming a family already typed.
    retyped: Vec<String>,
}

/// The suffixes a histogram's or summary's samples add to its name.
const SUFFIXES: [&str; 3] = ["_bucket", "_sum", "_count"];

impl Scrape {
    /// Reads a scrape.
    pub fn parse(text: &str) -> Scrape {
        let mut scrape = Scrape {
            types: BTreeMap::new(),
            samples: Vec::new(),
            retyped: Vec::new(),
        };
        for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
            if let Some(comment) = line.strip_prefix('#') {
                let mut words = comment.split_whitespace();
                if words.next() == Some("TYPE") {
                    let name = words.next().expect("a # TYPE line names its family");
                    let kind = words.next().expect("a # TYPE line gives a type");
                    if scrape
                        .types
                        .insert(name.to_owned(), kind.to_owned())
                        .is_some()
                    {
                        scrape.retyped.push(name.to_owned());
                    }
                }
                continue;
            }
            // Labels may hold spaces; the value follows the last `}`, if any.
            let split = line
                .rfind('}')
                .map_or_else(|| line.find(' '), |end| Some(end + 1));
            let (series, rest) = line.split_at(split.expect("a sample has a value"));
            let value = rest
                .split_whitespace()
                .next()
                .expect("a sample has a value");
            let value = value
                .parse()
                .unwrap_or_else(|_| panic!("not a value: {line}"));
            scrape.samples.push((series.to_owned(), value));
        }
        scrape
    }

    /// The type a plain parser gives the sample named `name`: its family's
    /// `# TYPE`, or `untyped` when no `# TYPE` line covers it.
    pub fn type_of(&self, name: &str) -> &str {
        if let Some(kind) = self.types.get(name) {
            return kind;
        }
        SUFFIXES
            .iter()
            .filter_map(|suffix| self.types.get(name.strip_suffix(suffix)?))
            .find(|kind| matches!(kind.as_str(), "histogram" | "summary"))
            .map_or("untyped", String::as_str)
    }

    /// The name of every sample no `# TYPE` line covers, once each.
    pub fn untyped(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .samples
            .iter()
            .map(|(series, _)| metric_name(series))
            .filter(|name| self.type_of(name) == "untyped")
            .collect();
        names.dedup();
        names
    }

    /// Every family and its type, by the name its `# TYPE` line gives it.
    pub fn families(&self) -> &BTreeMap<String, String> {
        &self.types
    }

    /// The families whose `# TYPE` line came more than once.
    pub fn retyped(&self) -> &[String] {
        &self.retyped
    }

    /// The value of `series`, written as in the scrape:
    /// `wsgate_messages_in_total{route="$default"}`.
    pub fn value(&self, series: &str) -> Option<f64> {
        self.samples
            .iter()
            .find(|(name, _)| name == series)
            .map(|(_, value)| *value)
    }
}

/// The metric name of a series: what comes before its labels.
fn metric_name(series: &str) -> &str {
    series.split('{').next().unwrap_or(series)
}

/// The value of the sample `series` (name and labels as written) in the text
/// of a scrape, in either format.
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    Scrape::parse(metrics).value(series)
}

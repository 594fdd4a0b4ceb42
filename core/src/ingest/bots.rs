//! Stage: drop bots. Input: the request's user-agent header. Output: whether it is a crawler,
//! monitor, preview, script or library ([`is_bot`]). Must not: keep or return any part of the user
//! agent, compile a regex, or cost more than a few microseconds per call once warm (a request has
//! 10 ms of CPU on the Workers Free plan, cold start included).
//!
//! Bots follow isbot's maintained pattern list. `scripts/gen-enrich-data.mjs` turns each of its regexes
//! into literal tokens with small context conditions (`core/data/isbot-patterns.tsv`), or, for the few
//! that describe the shape of the whole string, names a check written below (`STRUCTURAL`). The
//! tokens are indexed by first byte once per isolate (`BotMatcher` says why not Aho-Corasick); the
//! tests check that the result agrees with isbot itself on every sample in `core/data/ua-samples.tsv`.
//! An empty user agent is a bot too (isbot says no to it).

use std::sync::OnceLock;

/// isbot's patterns as literal rules, generated from the pinned npm package.
const ISBOT_PATTERNS: &str = include_str!("../../data/isbot-patterns.tsv");
/// True for crawlers, monitors, previews, scripts and libraries: isbot's list, plus the empty user agent.
pub fn is_bot(user_agent: &str) -> bool {
    if user_agent.trim().is_empty() {
        return true;
    }
    // The data is embedded at compile time and parsed by the tests, so `None` cannot happen in a build
    // that passed them; if it did, only the empty user agent would count as a bot.
    bot_matcher().is_some_and(|m| m.matches(&user_agent.to_ascii_lowercase()))
}

/// Builds the matcher on first use, once per isolate.
fn bot_matcher() -> Option<&'static BotMatcher> {
    static MATCHER: OnceLock<Result<BotMatcher, String>> = OnceLock::new();
    MATCHER
        .get_or_init(|| BotMatcher::parse(ISBOT_PATTERNS))
        .as_ref()
        .ok()
}

/// One condition a token's surroundings must meet (see the header of `isbot-patterns.tsv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cond {
    /// `^`: the token starts the user agent.
    Start,
    /// `<b`: a word boundary before the token.
    BoundaryBefore,
    /// `<w`: a word character right before the token.
    WordBefore,
    /// `<!text`: the token does not come right after `text`.
    NotAfter(&'static str),
    /// `>b`: a word boundary after the token.
    BoundaryAfter,
    /// `>a`: the end, or a byte that is not a letter or digit, after the token.
    NonAlnumAfter,
    /// `>d`: a digit after the token.
    DigitAfter,
    /// `>!text`: `text` does not follow the token.
    NotBefore(&'static str),
}

impl Cond {
    fn parse(text: &'static str) -> Result<Self, String> {
        Ok(match text {
            "^" => Cond::Start,
            "<b" => Cond::BoundaryBefore,
            "<w" => Cond::WordBefore,
            ">b" => Cond::BoundaryAfter,
            ">a" => Cond::NonAlnumAfter,
            ">d" => Cond::DigitAfter,
            _ => match (text.strip_prefix("<!"), text.strip_prefix(">!")) {
                (Some(before), _) if !before.is_empty() => Cond::NotAfter(before),
                (_, Some(after)) if !after.is_empty() => Cond::NotBefore(after),
                _ => return Err(format!("unknown condition {text:?}")),
            },
        })
    }

    /// Whether the condition holds for the token found at `ua[start..end]`.
    fn holds(self, ua: &[u8], start: usize, end: usize) -> bool {
        let word_at = |i: Option<usize>| i.and_then(|i| ua.get(i)).is_some_and(|b| is_word(*b));
        match self {
            Cond::Start => start == 0,
            Cond::BoundaryBefore => word_at(start.checked_sub(1)) != word_at(Some(start)),
            Cond::WordBefore => word_at(start.checked_sub(1)),
            Cond::NotAfter(text) => !ua[..start].ends_with(text.as_bytes()),
            Cond::BoundaryAfter => word_at(end.checked_sub(1)) != word_at(Some(end)),
            Cond::NonAlnumAfter => ua.get(end).is_none_or(|b| !b.is_ascii_alphanumeric()),
            Cond::DigitAfter => ua.get(end).is_some_and(u8::is_ascii_digit),
            Cond::NotBefore(text) => !ua[end..].starts_with(text.as_bytes()),
        }
    }
}

/// isbot's list, ready to run: the distinct tokens sorted, indexed by their first byte, each with its
/// alternative condition sets, and the structural checks.
///
/// Not an Aho-Corasick automaton: building one over these ~200 tokens took 0.5 ms natively, on every
/// cold isolate, while this index builds in ~0.1 ms natively and 0.15–0.25 ms in wasm (V8, measured
/// with `examples/enrich_cost.rs` and a scratch cdylib), and a lookup costs a few microseconds (a user
/// agent is ~150 bytes, and the first two bytes at each offset leave one or two tokens to compare).
struct BotMatcher {
    /// Tokens anchored at the start (`^`), checked at offset 0 only.
    anchored: Vec<Token>,
    /// The other tokens, sorted by their bytes.
    floating: Vec<Token>,
    /// `floating[first[b]..first[b + 1]]` are the tokens starting with byte `b`.
    first: Vec<u16>,
    structural: Vec<Check>,
}

/// One distinct token and the condition sets under which it counts (any set, all its conditions).
struct Token {
    bytes: &'static [u8],
    rules: Vec<Vec<Cond>>,
}

impl BotMatcher {
    fn parse(data: &'static str) -> Result<Self, String> {
        let mut anchored: Vec<Token> = Vec::new();
        let mut floating: Vec<Token> = Vec::new();
        let mut structural = Vec::new();
        for line in data
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            if let Some(name) = line.strip_prefix('@') {
                let check = STRUCTURAL
                    .iter()
                    .find(|(n, _)| *n == name)
                    .ok_or_else(|| format!("no structural check named {name:?}"))?;
                structural.push(check.1);
                continue;
            }
            let mut fields = line.split('\t');
            let bytes = fields.next().unwrap_or_default().as_bytes();
            let mut conds = fields.map(Cond::parse).collect::<Result<Vec<_>, _>>()?;
            if bytes.is_empty() {
                return Err(format!("empty token in {line:?}"));
            }
            // A `^` token is only looked for at offset 0, so the condition itself can go.
            let list = if conds.contains(&Cond::Start) {
                conds.retain(|c| *c != Cond::Start);
                &mut anchored
            } else {
                &mut floating
            };
            list.push(Token {
                bytes,
                rules: vec![conds],
            });
        }
        for list in [&mut anchored, &mut floating] {
            list.sort_by(|a, b| a.bytes.cmp(b.bytes));
            list.dedup_by(|later, kept| {
                let same = later.bytes == kept.bytes;
                if same {
                    kept.rules.append(&mut later.rules);
                }
                same
            });
        }
        let mut first = vec![0u16; 257];
        for t in &floating {
            first[usize::from(t.bytes[0]) + 1] += 1;
        }
        for b in 1..first.len() {
            first[b] += first[b - 1];
        }
        Ok(BotMatcher {
            anchored,
            floating,
            first,
            structural,
        })
    }

    /// The floating tokens that may start at `ua[at]`: those whose first byte is `ua[at]` and whose
    /// second byte, if they have one, is `ua[at + 1]` (tokens are sorted, so both are ranges).
    fn candidates<'a>(&'a self, ua: &[u8], at: usize) -> impl Iterator<Item = &'a Token> {
        let b = usize::from(ua[at]);
        let bucket = &self.floating[usize::from(self.first[b])..usize::from(self.first[b + 1])];
        let singles = bucket.partition_point(|t| t.bytes.len() < 2);
        let (one_byte, longer) = bucket.split_at(singles);
        let second = ua.get(at + 1).copied();
        let lo = longer.partition_point(|t| Some(t.bytes[1]) < second);
        let hi = longer.partition_point(|t| Some(t.bytes[1]) <= second);
        one_byte.iter().chain(&longer[lo..hi])
    }

    /// `ua` must be lower-cased already.
    fn matches(&self, ua: &str) -> bool {
        let ua = ua.as_bytes();
        let hit = |t: &Token, at: usize| {
            ua[at..].starts_with(t.bytes)
                && t.rules
                    .iter()
                    .any(|conds| conds.iter().all(|c| c.holds(ua, at, at + t.bytes.len())))
        };
        self.anchored.iter().any(|t| hit(t, 0))
            || (0..ua.len()).any(|at| self.candidates(ua, at).any(|t| hit(t, at)))
            || self.structural.iter().any(|check| check(ua))
    }
}

// --- Structural checks: isbot's patterns about the shape of the whole string, one function each,
// --- named in isbot-patterns.tsv. Each takes the lower-cased user agent and matches exactly what its
// --- regex (quoted above it) matches, with JavaScript's ASCII `\w`, `\d` and `\b`.

/// A structural check over the lower-cased user agent.
type Check = fn(&[u8]) -> bool;

/// The checks `@name` lines in isbot-patterns.tsv may name.
const STRUCTURAL: &[(&str, Check)] = &[
    ("semicolon_word_end", semicolon_word_end),
    ("email_address", email_address),
    ("bare_product", bare_product),
    ("word_slash_word", word_slash_word),
    ("long_without_space", long_without_space),
    ("leading_number", leading_number),
    ("first_word_search", first_word_search),
    ("word_slash_parens", word_slash_parens),
    ("product_contact", product_contact),
    ("mozilla_bare_word", mozilla_bare_word),
    ("mozilla_compatible_only", mozilla_compatible_only),
];

/// JavaScript's `\w`.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// JavaScript's `\s`, ASCII part.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The index after the run of bytes meeting `pred` that starts at `from`.
fn run(s: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    from + s
        .get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| pred(**b))
        .count()
}

/// Whether `s[at..]` starts with a digit, `.`, a digit and a space (`\d\.\d\s`).
fn version_space(s: &[u8], at: usize) -> bool {
    match s.get(at..at + 4) {
        Some([a, b'.', b, c]) => a.is_ascii_digit() && b.is_ascii_digit() && is_space(*c),
        _ => false,
    }
}

/// `;\s\w+;$`
fn semicolon_word_end(s: &[u8]) -> bool {
    let Some(rest) = s.strip_suffix(b";") else {
        return false;
    };
    let word_start = rest.iter().rposition(|b| !is_word(*b)).map_or(0, |i| i + 1);
    word_start < rest.len()
        && word_start >= 2
        && is_space(rest[word_start - 1])
        && rest[word_start - 2] == b';'
}

/// `@[a-z][\w-]+\.`
fn email_address(s: &[u8]) -> bool {
    s.iter().enumerate().any(|(at, b)| {
        // The run is measured only after an '@' and a letter, so this stays linear in practice.
        *b == b'@' && s.get(at + 1).is_some_and(u8::is_ascii_lowercase) && {
            let end = run(s, at + 2, |b| is_word(b) || b == b'-');
            end > at + 2 && s.get(end) == Some(&b'.')
        }
    })
}

/// `^[\w \.\-\(?:\):%]+(?:/v?\d+(?:\.\d+)?(?:\.\d{1,10})*?)?(?:,|$)`: a bare product name and version
/// and nothing else (`curl/8.5.0`, `Go-http-client/1.1`, `Ruby`).
fn bare_product(s: &[u8]) -> bool {
    let name_end = run(s, 0, |b| is_word(b) || b" .-(?:)%".contains(&b));
    let stops = |i: usize| i == s.len() || s[i] == b',';
    if name_end == 0 {
        return false;
    }
    if stops(name_end) {
        return true;
    }
    if s[name_end] != b'/' {
        return false;
    }
    let mut i = name_end + 1;
    if s.get(i) == Some(&b'v') {
        i += 1;
    }
    let digits_end = run(s, i, |b| b.is_ascii_digit());
    if digits_end == i {
        return false;
    }
    i = digits_end;
    let mut first_group = true;
    while s.get(i) == Some(&b'.') {
        let end = run(s, i + 1, |b| b.is_ascii_digit());
        // Groups after the first take at most 10 digits (`\.\d{1,10}`).
        if end == i + 1 || (!first_group && end - (i + 1) > 10) {
            return false;
        }
        first_group = false;
        i = end;
    }
    stops(i)
}

/// `^[\w\-]+/[\w]+$`
fn word_slash_word(s: &[u8]) -> bool {
    let slash = run(s, 0, |b| is_word(b) || b == b'-');
    let end = run(s, slash + 1, is_word);
    slash > 0 && s.get(slash) == Some(&b'/') && end > slash + 1 && end == s.len()
}

/// `^[^ ]{50,}$` (length in UTF-16 code units, as JavaScript counts).
fn long_without_space(s: &[u8]) -> bool {
    !s.contains(&b' ') && std::str::from_utf8(s).map_or(s.len(), |t| t.encode_utf16().count()) >= 50
}

/// `^\d+\b`
fn leading_number(s: &[u8]) -> bool {
    let end = run(s, 0, |b| b.is_ascii_digit());
    end > 0 && s.get(end).is_none_or(|b| !is_word(*b))
}

/// `^\w*search\b`
fn first_word_search(s: &[u8]) -> bool {
    s[..run(s, 0, is_word)].ends_with(b"search")
}

/// `^\w+/[\w\(\)]*$`
fn word_slash_parens(s: &[u8]) -> bool {
    let slash = run(s, 0, is_word);
    slash > 0
        && s.get(slash) == Some(&b'/')
        && run(s, slash + 1, |b| is_word(b) || b == b'(' || b == b')') == s.len()
}

/// `^\w+/\d\.\d\s\([\w@]+\)$` (`Acme/1.0 (ops@example.net)` has a dot, so only `(name@host)` forms).
fn product_contact(s: &[u8]) -> bool {
    let slash = run(s, 0, is_word);
    let open = slash + 5;
    let close = run(s, open + 1, |b| is_word(b) || b == b'@');
    slash > 0
        && s.get(slash) == Some(&b'/')
        && version_space(s, slash + 1)
        && s.get(open) == Some(&b'(')
        && close > open + 1
        && s.get(close) == Some(&b')')
        && close + 1 == s.len()
}

/// `^mozilla/\d\.\d\s[\w\.-]+$`
fn mozilla_bare_word(s: &[u8]) -> bool {
    let word = b"mozilla/".len() + 4;
    s.starts_with(b"mozilla/")
        && version_space(s, 8)
        && word < s.len()
        && run(s, word, |b| is_word(b) || b == b'.' || b == b'-') == s.len()
}

/// `^mozilla/\d\.\d\s\((?:compatible;)?(?:\s?[\w\d-.]+[\s/]\d+\.\d+)?\)$`
fn mozilla_compatible_only(s: &[u8]) -> bool {
    let open = b"mozilla/".len() + 4;
    if !(s.starts_with(b"mozilla/") && version_space(s, 8) && s.get(open) == Some(&b'(')) {
        return false;
    }
    let Some(inner) = s.get(open + 1..).and_then(|t| t.strip_suffix(b")")) else {
        return false;
    };
    let rest = inner.strip_prefix(b"compatible;").unwrap_or(inner);
    if rest.is_empty() {
        return true;
    }
    let name = usize::from(is_space(rest[0]));
    let sep = run(rest, name, |b| is_word(b) || b == b'.' || b == b'-');
    let major_end = run(rest, sep + 1, |b| b.is_ascii_digit());
    let minor_end = run(rest, major_end + 1, |b| b.is_ascii_digit());
    sep > name
        && rest.get(sep).is_some_and(|b| is_space(*b) || *b == b'/')
        && major_end > sep + 1
        && rest.get(major_end) == Some(&b'.')
        && minor_end > major_end + 1
        && minor_end == rest.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &str = include_str!("../../data/ua-samples.tsv");

    fn samples() -> impl Iterator<Item = (bool, &'static str)> {
        SAMPLES
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (verdict, ua) = l.split_once('\t').expect("verdict<TAB>ua");
                assert!(
                    verdict == "bot" || verdict == "human",
                    "run npm run gen:enrich-data: {l}"
                );
                (verdict == "bot", ua)
            })
    }

    #[test]
    fn the_isbot_data_parses_and_names_only_known_checks() {
        let m = BotMatcher::parse(ISBOT_PATTERNS).expect("isbot-patterns.tsv parses");
        assert!(m.floating.len() + m.anchored.len() > 150);
        assert_eq!(m.first[256], m.floating.len() as u16);
        assert_eq!(m.structural.len(), STRUCTURAL.len());
    }

    #[test]
    fn agrees_with_isbot_on_every_sample() {
        let wrong: Vec<_> = samples()
            .filter(|(bot, ua)| is_bot(ua) != *bot)
            .map(|(bot, ua)| format!("isbot says {bot}: {ua}"))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
        assert!(samples().count() > 100);
    }

    #[test]
    fn named_bots_libraries_and_headless_browsers_are_bots() {
        for ua in [
            "",
            "   ",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
            "curl/8.5.0",
            "python-requests/2.32.3",
            "Go-http-client/2.0",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        ] {
            assert!(is_bot(ua), "{ua}");
        }
    }

    #[test]
    fn browsers_are_not_bots() {
        for (bot, ua) in samples() {
            if !bot && ua.starts_with("Mozilla/5.0 (") && ua.contains("AppleWebKit") {
                assert!(!is_bot(ua), "{ua}");
            }
        }
        // The context conditions: "cubot" phones, "camscanner", "libhttp", a Google Pixel channel.
        assert!(!is_bot("Mozilla/5.0 (Linux; Android 12; CUBOT KINGKONG 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"));
        assert!(!is_bot(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36 camscanner"
        ));
        assert!(is_bot(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36 scanner"
        ));
    }

    #[test]
    fn odd_input_neither_panics_nor_takes_long() {
        let long = "a".repeat(100_000);
        let at_signs = "@a".repeat(50_000);
        for ua in [
            "é",
            "@",
            "/",
            ";",
            "(",
            "mozilla/5.0 (",
            "mozilla/5.0 (compatible; ",
            "a/",
            "\u{feff}",
            "Mozilla/5.0 (Linux; Android 14; 😀) Chrome/131.0.0.0",
            &long,
            &at_signs,
        ] {
            let _ = (is_bot(ua), crate::ingest::agent::agent(ua));
        }
        assert!(is_bot(&long), "no space and 50 or more characters");
    }

    #[test]
    fn structural_checks_match_their_regexes() {
        let yes = |f: Check, s: &str| assert!(f(s.as_bytes()), "{s}");
        let no = |f: Check, s: &str| assert!(!f(s.as_bytes()), "{s}");
        yes(semicolon_word_end, "mozilla/5.0 (x11) foo; bar;");
        no(semicolon_word_end, "mozilla/5.0 (x11) foo;bar;");
        no(semicolon_word_end, "; ;");
        yes(email_address, "acme (ops@example.net)");
        no(email_address, "acme (ops@e.net)");
        no(email_address, "acme @1x.png");
        for s in [
            "curl/8.5.0",
            "ruby",
            "go-http-client/1.1",
            "foo/v2",
            "a b (c):%",
        ] {
            yes(bare_product, s);
        }
        yes(bare_product, "foo/1.2,rest");
        yes(bare_product, "foo/1.12345678901234");
        no(bare_product, "foo/1.2.12345678901");
        for s in [
            "mozilla/5.0 (x11)",
            "foo/",
            "foo/1.",
            "/1.0",
            "foo/1 bar",
            "foo;",
        ] {
            no(bare_product, s);
        }
        yes(word_slash_word, "my-tool/beta");
        no(word_slash_word, "my-tool/beta.1");
        yes(long_without_space, &"x".repeat(50));
        no(long_without_space, &"x".repeat(49));
        no(long_without_space, &format!("{} x", "x".repeat(60)));
        yes(leading_number, "123 some tool");
        yes(leading_number, "123");
        no(leading_number, "123abc");
        yes(first_word_search, "websearch-client/2");
        yes(first_word_search, "search");
        no(first_word_search, "searcher");
        no(first_word_search, "my search");
        yes(word_slash_parens, "foo/bar(baz)");
        yes(word_slash_parens, "foo/");
        no(word_slash_parens, "foo/bar baz");
        yes(product_contact, "foo/1.0 (ops@example)");
        no(product_contact, "foo/1.0 (ops@example.net)");
        yes(mozilla_bare_word, "mozilla/5.0 foo");
        no(mozilla_bare_word, "mozilla/5.0 foo bar");
        no(mozilla_bare_word, "mozilla/5.0 ");
        for s in [
            "mozilla/5.0 ()",
            "mozilla/5.0 (compatible;)",
            "mozilla/5.0 (compatible; fetcher/1.0)",
            "mozilla/5.0 (fetcher 2.10)",
        ] {
            yes(mozilla_compatible_only, s);
        }
        // (Expectations checked against the regexes in node.)
        for s in [
            "mozilla/5.0 (compatible)",
            "mozilla/5.0 (compatible; fetcher/1)",
            "mozilla/5.0 (windows nt 10.0; win64; x64)",
            "mozilla/5.0 (compatible; fetcher/1.0",
        ] {
            no(mozilla_compatible_only, s);
        }
    }
}

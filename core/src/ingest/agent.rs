//! Stage: enrich (user agent). Input: the request's user-agent header. Output: an [`Agent`]: browser,
//! OS and device class as `&'static str` names (bots are told apart before, by [`super::bots`]).
//! Must not: keep or return any part of the user agent, compile a regex, or cost more than a few
//! microseconds per call once warm (a request has 10 ms of CPU on the Workers Free plan).
//!
//! Browser, OS and device come from a short ordered list of product tokens written here by hand, on
//! purpose: the maintained parsers cost too much for a 10 ms budget (measured in wasm: uap-core based
//! crates 2 s for their first parse and 0.7–3 ms per parse, woothee 69 ms first and 128 µs after),
//! and the few names a dashboard shows are told apart by tokens browsers have kept stable for years.
//! Brave and other Chromium browsers that do not name themselves count as Chrome.

/// What kind of device a browser runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// Desktops and laptops, and anything not known to be mobile or a tablet.
    Desktop,
    /// Phones.
    Mobile,
    /// Tablets (iPad, Android without "Mobile", Kindle).
    Tablet,
}

impl Device {
    /// The stored name: `desktop`, `mobile` or `tablet`.
    pub fn name(&self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
        }
    }
}

/// Browser, OS and device class of a user agent; [`UNKNOWN`] where the user agent does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agent {
    /// Browser name, e.g. `Chrome`, `Safari`, `Samsung Internet`, `Facebook`, `Chrome WebView`.
    pub browser: &'static str,
    /// OS name, e.g. `Windows`, `macOS`, `iOS`, `iPadOS`, `Android`, `Linux`, `ChromeOS`.
    pub os: &'static str,
    /// Device class.
    pub device: Device,
}

/// The name used when the user agent does not tell.
pub const UNKNOWN: &str = "Unknown";

/// Browsers, first match wins: in-app browsers and Chromium derivatives come before Chrome, which
/// their user agents also name, and everything comes before Safari, which nearly all of them name.
const BROWSERS: &[(&str, &str)] = &[
    ("FBAN/", "Facebook"),
    ("FBAV/", "Facebook"),
    ("FB_IAB/", "Facebook"),
    ("Instagram", "Instagram"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("YaBrowser/", "Yandex"),
    ("YaSearchBrowser/", "Yandex"),
    ("UCBrowser/", "UC Browser"),
    ("UCWEB", "UC Browser"),
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("OPiOS/", "Opera"),
    ("OPT/", "Opera"),
    ("Opera", "Opera"),
    ("Silk/", "Silk"),
    ("DuckDuckGo/", "DuckDuckGo"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("GSA/", "Google App"),
    ("; wv)", "Chrome WebView"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chrome"),
    ("MSIE ", "Internet Explorer"),
    ("Trident/", "Internet Explorer"),
    ("Android", "Android Browser"),
    ("Safari/", "Safari"),
    // An iOS app's WKWebView names no browser at all.
    ("iPhone", "Safari WebView"),
    ("iPad", "Safari WebView"),
];

/// Operating systems, first match wins (Windows Phone says "Android"; iOS says "like Mac OS X";
/// Android and ChromeOS say "Linux"). An iPad in desktop mode says "Macintosh" and counts as macOS.
const SYSTEMS: &[(&str, &str)] = &[
    ("Windows Phone", "Windows Phone"),
    ("Windows", "Windows"),
    ("iPad", "iPadOS"),
    ("iPhone", "iOS"),
    ("iPod", "iOS"),
    ("CrOS", "ChromeOS"),
    ("Android", "Android"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
];

/// Tokens only tablets send (Windows desktops may say "Tablet PC", so Windows is excluded).
const TABLET: &[&str] = &["iPad", "Tablet", "Kindle", "Silk/", "PlayBook"];
/// Tokens only phones send; Android without "Mobile" is a tablet.
const MOBILE: &[&str] = &[
    "Mobi",
    "iPhone",
    "iPod",
    "Windows Phone",
    "Opera Mini",
    "BlackBerry",
];

/// Browser, OS and device class of `user_agent`. Never fails; unknown parts are [`UNKNOWN`].
pub fn agent(user_agent: &str) -> Agent {
    let has = |token: &&str| user_agent.contains(*token);
    let first = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(token, _)| has(token))
            .map_or(UNKNOWN, |(_, name)| *name)
    };
    let tablet_token = !user_agent.contains("Windows NT") && TABLET.iter().any(has);
    let android_tablet = user_agent.contains("Android") && !user_agent.contains("Mobi");
    let device = if tablet_token || android_tablet {
        Device::Tablet
    } else if MOBILE.iter().any(has) {
        Device::Mobile
    } else {
        Device::Desktop
    };
    Agent {
        browser: first(BROWSERS),
        os: first(SYSTEMS),
        device,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ua: &str, browser: &str, os: &str, device: Device) {
        let a = agent(ua);
        assert_eq!((a.browser, a.os, a.device), (browser, os, device), "{ua}");
    }

    #[test]
    fn desktop_browsers() {
        use Device::Desktop;
        let win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        check(win, "Chrome", "Windows", Desktop);
        check(&format!("{win} Edg/131.0.0.0"), "Edge", "Windows", Desktop);
        check(&format!("{win} OPR/115.0.0.0"), "Opera", "Windows", Desktop);
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 YaBrowser/24.10.0.0 Safari/537.36",
            "Yandex", "Windows", Desktop,
        );
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox",
            "Windows",
            Desktop,
        );
        check(
            "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
            "Internet Explorer",
            "Windows",
            Desktop,
        );
        check(
            "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)",
            "Internet Explorer",
            "Windows",
            Desktop,
        );
        check(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "Safari", "macOS", Desktop,
        );
        check(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome", "macOS", Desktop,
        );
        check(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox",
            "macOS",
            Desktop,
        );
        check(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome", "Linux", Desktop,
        );
        check(
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox",
            "Linux",
            Desktop,
        );
        check(
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome", "ChromeOS", Desktop,
        );
    }

    #[test]
    fn phones_and_tablets() {
        use Device::{Desktop, Mobile, Tablet};
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "Safari", "iOS", Mobile,
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
            "Chrome", "iOS", Mobile,
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
            "Firefox", "iOS", Mobile,
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 EdgiOS/131.2903.70 Mobile/15E148 Safari/605.1.15",
            "Edge", "iOS", Mobile,
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22B83",
            "Safari WebView", "iOS", Mobile,
        );
        check(
            "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
            "Safari", "iPadOS", Tablet,
        );
        // iPadOS asks for desktop sites by default and then says it is a Mac.
        check(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Safari/605.1.15",
            "Safari", "macOS", Desktop,
        );
        check(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
            "Chrome", "Android", Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome", "Android", Tablet,
        );
        check(
            "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
            "Samsung Internet", "Android", Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X810) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Safari/537.36",
            "Samsung Internet", "Android", Tablet,
        );
        check(
            "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
            "Firefox",
            "Android",
            Mobile,
        );
        check(
            "Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0",
            "Firefox",
            "Android",
            Tablet,
        );
        check(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
            "Edge", "Android", Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0",
            "Opera", "Android", Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; U; Android 12; en-US; SM-A125F Build/SP1A.210812.016) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/123.0.6312.80 UCBrowser/13.8.2.1324 Mobile Safari/537.36",
            "UC Browser", "Android", Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; Android 13; SM-S908B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 YaBrowser/24.10.5.73.00 SA/3 Mobile Safari/537.36",
            "Yandex", "Android", Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/131.4.1 like Chrome/131.0.6778.135 Safari/537.36",
            "Silk", "Android", Tablet,
        );
        check(
            "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
            "Edge", "Windows Phone", Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; GT-I9100 Build/IML74K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
            "Android Browser", "Android", Mobile,
        );
        check(
            "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; SLCC2; Tablet PC 2.0) like Gecko",
            "Internet Explorer",
            "Windows",
            Desktop,
        );
    }

    #[test]
    fn in_app_browsers() {
        use Device::Mobile;
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22B83 [FBAN/FBIOS;FBAV/488.0.0.56.109;FBBV/672913483;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/18.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/675125612]",
            "Facebook", "iOS", Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/489.0.0.59.108;]",
            "Facebook", "Android", Mobile,
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 357.0.0.25.101 (iPhone15,3; iOS 18_1; en_US; en; scale=3.00; 1290x2796; 654296393)",
            "Instagram", "iOS", Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/AP2A.240905.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.107 Mobile Safari/537.36",
            "Chrome WebView", "Android", Mobile,
        );
    }

    #[test]
    fn unknown_parts_say_unknown() {
        assert_eq!(
            agent("curl/8.5.0"),
            Agent {
                browser: UNKNOWN,
                os: UNKNOWN,
                device: Device::Desktop
            }
        );
        assert_eq!(agent("").browser, "Unknown");
        assert_eq!(Device::Tablet.name(), "tablet");
        assert_eq!(Device::Mobile.name(), "mobile");
        assert_eq!(Device::Desktop.name(), "desktop");
    }
}

use super::*;

/// `go version -m` of a binary built by Go 1.19 with a replaced dependency and flags.
const LISTING: &str = "./app: go1.19.8
\tpath\texample.com/app
\tmod\texample.com/app\t(devel)\t
\tdep\texample.com/greet\tv1.1.0\t
\t=>\t../greet-v1.1.0\t(devel)\t
\tdep\tgolang.org/x/text\tv0.3.7\th1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=
\tbuild\t-compiler=gc
\tbuild\t-ldflags=\"-X main.version=1.2.3 -s\"
\tbuild\t-trimpath=true
\tbuild\tCGO_ENABLED=0
\tbuild\tGOARCH=amd64
\tbuild\tGOOS=linux
\tbuild\tGOAMD64=v1
\tbuild\tvcs=git
\tbuild\tvcs.revision=0123456789abcdef0123456789abcdef01234567
\tbuild\tvcs.time=2026-12-05T10:00:00Z
\tbuild\tvcs.modified=true
";

#[test]
fn a_go_version_listing_with_replacements_and_quoted_flags() {
    let all = listings(LISTING);
    assert_eq!(all.len(), 1);
    let info = &all[0].info;
    assert_eq!(all[0].file, "./app");
    assert_eq!(info.go_version.as_deref(), Some("go1.19.8"));
    assert_eq!(info.path.as_deref(), Some("example.com/app"));
    assert_eq!(info.main.as_ref().unwrap().version, "(devel)");
    let greet = info.dep("example.com/greet").unwrap();
    assert_eq!(greet.version, "v1.1.0");
    assert_eq!(greet.effective().path, "../greet-v1.1.0");
    assert_eq!(
        info.dep("golang.org/x/text").unwrap().sum.as_deref(),
        Some("h1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=")
    );
    assert_eq!(info.setting("-ldflags"), Some("-X main.version=1.2.3 -s"));
    assert_eq!(info.setting("vcs.modified"), Some("true"));
    // Written back and read again, it is the same.
    let again = BuildInfo::parse(&info.to_text());
    assert_eq!(again.deps, info.deps);
    assert_eq!(again.settings, info.settings);
}

#[test]
fn several_listings_and_odd_lines() {
    let text = format!(
        "{LISTING}bin/other: go1.22.1\n\tpath\tx/y\n\tbuild\t\"we=ird\"=`raw value`\n\tbuild\t=nokey\n\tfuture\tline\n"
    );
    let all = listings(&text);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].info.setting("we=ird"), Some("raw value"));
    assert_eq!(all[1].info.settings.len(), 1);
    assert!(looks_like_modinfo(&text));
    assert!(!looks_like_modinfo("hello\nworld"));
}

#[test]
fn go_string_escapes() {
    assert_eq!(
        quoted_prefix(r#""a\tb\x41\u00e9\101\"" rest"#),
        Some(("a\tbAéA\"".to_owned(), " rest"))
    );
    assert_eq!(quoted_prefix("\"unterminated"), None);
    assert_eq!(quoted_prefix("\"bad \\q\""), None);
}

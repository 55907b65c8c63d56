//! Hostile input never panics: the parsers see registry headers, pasted text, secrets and
//! image references that anyone can write.

#![allow(clippy::unwrap_used)]

use lastmile_fn_image_pull::credentials::DockerConfig;
use lastmile_fn_image_pull::reference::ImageRef;
use lastmile_fn_image_pull::{challenge, message, platform::Platform};
use proptest::prelude::*;

proptest! {
    #[test]
    fn parsers_never_panic(s in "\\PC{0,300}") {
        let _ = message::classify(&s);
        let _ = ImageRef::parse(&s);
        let _ = challenge::parse(&s);
        let _ = Platform::parse(&s);
        let _ = DockerConfig::parse(s.as_bytes(), "prop");
    }

    #[test]
    fn pull_texts_with_noise_never_panic(
        pre in "\\PC{0,80}",
        post in "[ -~\u{e9}\u{202e}\n]{0,80}",
        status in 100u16..600,
    ) {
        let t = format!("{pre}Failed to pull image \"r.example:5000/a/b:1\": unexpected status from HEAD request to https://r.example:5000/v2/a/b/manifests/1: {status} {post}");
        let m = message::classify(&t);
        prop_assert!(m.is_some());
    }

    #[test]
    fn valid_references_round_trip(
        host in "[a-z]{1,10}\\.[a-z]{2,5}(:[0-9]{2,5})?",
        repo in "[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}",
        tag in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
    ) {
        let r = ImageRef::parse(&format!("{host}/{repo}:{tag}")).unwrap();
        prop_assert_eq!(r.tag.as_deref(), Some(tag.as_str()));
        prop_assert_eq!(ImageRef::parse(&r.to_string()).unwrap(), r);
    }

    #[test]
    fn challenge_params_survive_quoting(realm in "[ -!#-\\[\\]-~]{0,40}", service in "[a-z.]{1,20}") {
        let c = challenge::parse(&format!("Bearer realm=\"{realm}\",service=\"{service}\""));
        prop_assert_eq!(c[0].param("realm"), Some(realm.as_str()));
        prop_assert_eq!(c[0].param("service"), Some(service.as_str()));
    }
}
